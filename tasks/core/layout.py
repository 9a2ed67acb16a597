"""Storage layout (DESIGN section 4): every object key is built here."""

from __future__ import annotations

import re

IMMUTABLE_PREFIXES = ("curated/", "datasets/")
_MODEL_VERSION_KEY = re.compile(r"^models/[^/]+/[^/]+/.+")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a safe dataset/model name, else raise ``ValueError``."""
    if not _NAME.match(name):
        raise ValueError(
            f"invalid {kind} name {name!r}: use lower-case letters, digits and '_', "
            "starting with a letter"
        )
    return name


def is_immutable(key: str) -> bool:
    """True for keys that are written once and never modified."""
    if key.startswith(IMMUTABLE_PREFIXES):
        return True
    return bool(_MODEL_VERSION_KEY.match(key)) and not key.endswith("/champion.json")


def landing_prefix(dataset: str) -> str:
    return f"landing/{dataset}/"


def curated_key(dataset: str, date: str, sha256: str) -> str:
    return f"curated/{dataset}/date={date}/{sha256}.parquet"


def key_index_key(dataset: str, sha256: str) -> str:
    """A partition's hashed keys (tasks/core/ingest/key_index.py), content-addressed."""
    return f"curated/{dataset}/keys/{sha256}.parquet"


def quarantine_key(dataset: str, date: str, filename: str) -> str:
    return f"quarantine/{dataset}/{date}/{filename}"


def validation_key(dataset: str, date: str, filename: str, sha256: str) -> str:
    """Where an accepted file's validation report and page go (``+ .validation.json|html``)."""
    return f"validation/{dataset}/{date}/{filename}.{sha256[:12]}"


def manifest_key(dataset: str, version: str) -> str:
    return f"datasets/{dataset}/{version}.json"


def model_key(model: str, version: str, filename: str) -> str:
    return f"models/{model}/{version}/{filename}"


def champion_key(model: str) -> str:
    return f"models/{model}/champion.json"


def checkpoint_prefix(model: str, run_key: str) -> str:
    return f"checkpoints/{model}/{run_key}/"


def report_key(model: str, version: str, filename: str) -> str:
    return f"reports/{model}/{version}/{filename}"


def monitoring_key(model: str, stamp: str, filename: str) -> str:
    return f"reports/{model}/monitoring/{stamp}/{filename}"
