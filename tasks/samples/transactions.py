"""Synthetic card transactions with a learnable fraud signal.

Pure and deterministic: the customer and merchant population depends on ``seed`` only,
and day ``k`` draws from a generator seeded by ``(seed, stream, k)``, so a day is
identical however many days are generated around it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORIES = (
    "grocery", "restaurants", "fuel", "clothing", "health", "entertainment",
    "electronics", "travel", "gambling", "jewelry", "online_services", "cash",
)  # fmt: skip
RISKY_CATEGORIES = ("electronics", "jewelry", "gambling", "travel", "online_services")
DRIFT_CATEGORIES = (
    "grocery", "restaurants", "fuel", "clothing", "health", "entertainment", "electronics",
    "travel",
)  # fmt: skip
CHANNELS = ("online", "pos", "atm")
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "MX", "BR", "IN", "JP", "NG", "RU")
TRANSACTION_COLUMNS = (
    "transaction_id", "event_time", "customer_id", "merchant_id", "merchant_category",
    "amount", "channel", "country", "customer_age", "is_fraud",
)  # fmt: skip
N_CUSTOMERS = 2000
N_MERCHANTS = 300
FRAUD_RATE = 0.0095  # fraud draws per row, before label noise
MAX_AMOUNT = 1_000_000.0

_CAT = {name: i for i, name in enumerate(CATEGORIES)}
# share of spend by category, median amount and log-normal sigma
_CAT_SHARE = np.array([0.22, 0.16, 0.10, 0.08, 0.06, 0.07, 0.05, 0.03, 0.02, 0.015, 0.12, 0.075])
_CAT_MEDIAN = np.array([45, 35, 50, 70, 60, 40, 220, 380, 90, 300, 18, 100], dtype=float)
_CAT_SIGMA = np.array([0.6, 0.6, 0.4, 0.8, 0.8, 0.7, 1.0, 0.9, 1.1, 1.0, 0.8, 0.6])
_HOME_P = np.array([0.70, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0, 0])
_RISKY = np.array([_CAT[c] for c in RISKY_CATEGORIES])
_RISKY_P = np.array([0.30, 0.15, 0.15, 0.15, 0.25])
_DRIFT_MULT = np.where(np.isin(CATEGORIES, DRIFT_CATEGORIES), 1.6, 1.0)
_POPULATION, _DAY = 1, 2  # independent random streams

_Rows = dict[str, np.ndarray]  # per-row draws: cust, cat, channel, hour, country, amount


@dataclass(frozen=True)
class _Population:
    customer_ids: np.ndarray
    home: np.ndarray  # index into COUNTRIES
    age: np.ndarray
    spend: np.ndarray  # multiplier on category medians
    online_p: np.ndarray  # chance of paying online where both online and pos are possible
    hour_center: np.ndarray
    hour_spread: np.ndarray
    activity_p: np.ndarray
    victim_p: np.ndarray  # who fraudsters hit: active, young and very old customers
    cat_cdf: np.ndarray  # (customers, categories) cumulative preferences
    merchant_ids: np.ndarray
    merchant_cat: np.ndarray
    merchant_country: np.ndarray


def _population(seed: int) -> _Population:
    rng = np.random.default_rng([seed, _POPULATION])
    n = N_CUSTOMERS
    age = np.clip(np.rint(18 + rng.gamma(2.0, 14.0, n)), 18, 95).astype(np.int64)
    pref_channel = rng.choice(3, size=n, p=[0.35, 0.55, 0.10])
    prefs = rng.dirichlet(_CAT_SHARE * 15, size=n)
    prefs[pref_channel == 0, _CAT["online_services"]] *= 2
    prefs[pref_channel == 2, _CAT["cash"]] *= 3
    activity = rng.lognormal(0.0, 0.6, n)
    risk = activity * np.where(age < 25, 3.0, 1.0) * np.where(age >= 75, 3.5, 1.0)
    n_spare = N_MERCHANTS - 3 * len(CATEGORIES)  # every category has at least 3 merchants
    spare = rng.choice(len(CATEGORIES), n_spare, p=_CAT_SHARE)
    return _Population(
        customer_ids=np.array([f"c-{i:05d}" for i in range(n)], dtype=object),
        home=rng.choice(len(COUNTRIES), size=n, p=_HOME_P),
        age=age,
        spend=rng.lognormal(0.0, 0.5, n),
        online_p=np.array([0.75, 0.15, 0.10])[pref_channel],
        hour_center=np.clip(rng.normal(14.0, 2.5, n), 8.0, 21.0),
        hour_spread=rng.uniform(2.0, 4.0, n),
        activity_p=activity / activity.sum(),
        victim_p=risk / risk.sum(),
        cat_cdf=np.cumsum(prefs / prefs.sum(axis=1, keepdims=True), axis=1),
        merchant_ids=np.array([f"m-{j:04d}" for j in range(N_MERCHANTS)], dtype=object),
        merchant_cat=np.r_[np.repeat(np.arange(len(CATEGORIES)), 3), spare],
        merchant_country=rng.choice(len(COUNTRIES), size=N_MERCHANTS, p=_HOME_P),
    )


def _row_choice(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One category index per row of a cumulative-probability matrix."""
    picks = (cdf < rng.random(len(cdf))[:, None]).sum(axis=1)
    return np.minimum(picks, cdf.shape[1] - 1)


def _channels(rng: np.random.Generator, cat: np.ndarray, online_p: np.ndarray) -> np.ndarray:
    channel = np.where(rng.random(len(cat)) < online_p, 0, 1)
    channel[cat == _CAT["online_services"]] = 0
    channel[cat == _CAT["cash"]] = 2
    return channel


def _amounts(
    rng: np.random.Generator, cat: np.ndarray, spend: np.ndarray, drifted: bool
) -> np.ndarray:
    amount = _CAT_MEDIAN[cat] * spend * rng.lognormal(0.0, _CAT_SIGMA[cat])
    return amount * _DRIFT_MULT[cat] if drifted else amount


def _local_hours(rng: np.random.Generator, pop: _Population, cust: np.ndarray) -> np.ndarray:
    return (pop.hour_center[cust] + pop.hour_spread[cust] * rng.standard_normal(len(cust))) % 24


def _foreign_countries(
    rng: np.random.Generator, home: np.ndarray, foreign: np.ndarray
) -> np.ndarray:
    other = (home + rng.integers(1, len(COUNTRIES), len(home))) % len(COUNTRIES)
    return np.where(foreign, other, home)


def _legit_rows(rng: np.random.Generator, pop: _Population, n: int, drifted: bool) -> _Rows:
    cust = rng.choice(N_CUSTOMERS, size=n, p=pop.activity_p)
    cat = _row_choice(rng, pop.cat_cdf[cust])
    online_p = np.minimum(pop.online_p[cust] + (0.3 if drifted else 0.0), 1.0)
    foreign = rng.random(n) < np.where(cat == _CAT["travel"], 0.3, 0.02)
    return {
        "cust": cust,
        "cat": cat,
        "channel": _channels(rng, cat, online_p),
        "hour": _local_hours(rng, pop, cust),
        "country": _foreign_countries(rng, pop.home[cust], foreign),
        "amount": _amounts(rng, cat, pop.spend[cust], drifted),
    }


def _fraud_rows(rng: np.random.Generator, pop: _Population, n: int, drifted: bool) -> _Rows:
    """Fraud looks like its victim's normal spend, with each tell present only sometimes."""
    cust = rng.choice(N_CUSTOMERS, size=n, p=pop.victim_p)
    risky = rng.choice(_RISKY, size=n, p=_RISKY_P)
    cat = np.where(rng.random(n) < 0.65, risky, _row_choice(rng, pop.cat_cdf[cust]))
    night = rng.random(n) < 0.6
    hour = np.where(night, rng.uniform(0.0, 6.0, n), _local_hours(rng, pop, cust))
    inflate = np.where(rng.random(n) < 0.65, rng.lognormal(1.3, 0.5, n), 1.0)
    rows = {
        "cust": cust,
        "cat": cat,
        "channel": _channels(rng, cat, np.maximum(pop.online_p[cust], 0.6)),
        "hour": hour,
        "country": _foreign_countries(rng, pop.home[cust], rng.random(n) < 0.4),
        "amount": _amounts(rng, cat, pop.spend[cust], drifted) * inflate,
    }
    if drifted:  # new pattern: skimmed cards used at fuel pumps, at home, in daytime
        skim = rng.random(n) < 0.4
        rows["cat"] = np.where(skim, _CAT["fuel"], rows["cat"])
        rows["channel"] = np.where(skim, 1, rows["channel"])
        rows["hour"] = np.where(skim, _local_hours(rng, pop, cust), rows["hour"])
        rows["country"] = np.where(skim, pop.home[cust], rows["country"])
        fuel = _amounts(rng, np.full(n, _CAT["fuel"]), pop.spend[cust], drifted) * 1.8
        rows["amount"] = np.where(skim, fuel, rows["amount"])
    return rows


def _merchants(
    rng: np.random.Generator, pop: _Population, cat: np.ndarray, country: np.ndarray
) -> np.ndarray:
    """Pick a merchant of the row's category, preferring one in the row's country."""
    merchant = np.empty(len(cat), dtype=np.int64)
    for c in range(len(CATEGORIES)):
        rows = np.flatnonzero(cat == c)
        candidates = np.flatnonzero(pop.merchant_cat == c)
        same = pop.merchant_country[candidates][None, :] == country[rows][:, None]
        cdf = np.cumsum(np.where(same, 1.0, 0.02), axis=1)
        merchant[rows] = candidates[_row_choice(rng, cdf / cdf[:, -1:])]
    return merchant


def _day_frame(
    rng: np.random.Generator, pop: _Population, day: dt.date, n: int, drifted: bool
) -> pd.DataFrame:
    n_fraud = int(rng.binomial(n, FRAUD_RATE))
    legit = _legit_rows(rng, pop, n - n_fraud, drifted)
    fraud = _fraud_rows(rng, pop, n_fraud, drifted)
    rows = {key: np.concatenate([legit[key], fraud[key]]) for key in legit}
    label = np.r_[np.zeros(n - n_fraud, dtype=np.int64), np.ones(n_fraud, dtype=np.int64)]
    noise = rng.random(n) < np.where(label == 1, 0.04, 0.0015)  # missed fraud, false claims
    label = np.where(noise, 1 - label, label)
    cat, cust = rows["cat"], rows["cust"]
    amount = np.clip(rows["amount"], 1.0, MAX_AMOUNT)
    amount = np.where(cat == _CAT["cash"], np.maximum(np.rint(amount / 20) * 20, 20), amount)
    seconds = np.minimum((rows["hour"] * 3600).astype(np.int64), 86_399)
    order = np.argsort(seconds, kind="stable")
    times = np.datetime64(day.isoformat(), "ns") + seconds[order].astype("timedelta64[s]")
    frame = {
        "transaction_id": [f"tx-{day.isoformat()}-{i:05d}" for i in range(n)],
        "event_time": pd.DatetimeIndex(times).tz_localize("UTC"),
        "customer_id": pop.customer_ids[cust[order]],
        "merchant_id": pop.merchant_ids[_merchants(rng, pop, cat, rows["country"])[order]],
        "merchant_category": np.array(CATEGORIES, dtype=object)[cat[order]],
        "amount": np.round(amount[order], 2),
        "channel": np.array(CHANNELS, dtype=object)[rows["channel"][order]],
        "country": np.array(COUNTRIES, dtype=object)[rows["country"][order]],
        "customer_age": pop.age[cust[order]],
        "is_fraud": label[order],
    }
    df = pd.DataFrame(frame)
    return df.astype({c: "str" for c in TRANSACTION_COLUMNS if df[c].dtype == object})


def generate_transactions(
    days: int,
    start: dt.date,
    seed: int,
    *,
    rows_per_day: int = 4000,
    drift_from_day: int | None = None,
) -> dict[dt.date, pd.DataFrame]:
    """Generate one frame of card transactions per day, keyed by date.

    Fraud (about 1% of rows, with label noise) is more likely at night, in risky
    categories, online, for young and very old customers, far above the customer's
    usual spend and abroad. From day index ``drift_from_day`` on, amounts in
    ``DRIFT_CATEGORIES`` grow 1.6x, spend moves online and a new fraud pattern
    (fuel at pos) appears; earlier days are unchanged.
    """
    if days < 0 or rows_per_day < 1:
        raise ValueError(f"need days >= 0 and rows_per_day >= 1, got {days}, {rows_per_day}")
    pop = _population(seed)
    out = {}
    for k in range(days):
        day = start + dt.timedelta(days=k)
        drifted = drift_from_day is not None and k >= drift_from_day
        rng = np.random.default_rng([seed, _DAY, k])
        out[day] = _day_frame(rng, pop, day, rows_per_day, drifted)
    return out
