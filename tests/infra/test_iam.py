"""IAM policies (infra/iam/): each role can do its job on the storage layout, and no more.

A small evaluator of identity policies (explicit deny wins, then any allow; `*` and `?`
wildcards in actions and resources; the StringLike / StringEquals / Null conditions these
documents use) is run against object keys built by tasks/core/layout.py, so a change of
layout that the policies do not follow fails here. The documents are rendered with the
placeholders replaced, for a store at the bucket root and one under a prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.core import layout

ROOT = Path(__file__).resolve().parents[2]
IAM = ROOT / "infra" / "iam"
ROLES = ("ingestion", "training", "serving", "dask-worker")
BUCKET = "acme-ml"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
REGION = "eu-west-1"
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
SHA = "ab" * 32
RUN_KEY = "9f" * 16


def raw(role: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((IAM / f"{role}-role.json").read_text(encoding="utf-8"))
    return doc


def render(role: str, prefix: str) -> dict[str, Any]:
    """The document with its placeholders filled, as CloudFormation Fn::Sub or envsubst would."""
    values = {"BucketName": BUCKET, "Prefix": prefix, "KmsKeyArn": KMS_KEY, "Region": REGION}
    text = (IAM / f"{role}-role.json").read_text(encoding="utf-8")
    text = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)
    doc: dict[str, Any] = json.loads(text)
    return doc


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            present = key in context
            if operator == "Null":
                if (expected == "true") == present:
                    return False
            elif operator in ("StringLike", "StringEquals"):
                if not present:
                    return False
                exact = operator == "StringEquals"
                if not any(
                    context[key] == e if exact else wildcard(e, context[key])
                    for e in as_list(expected)
                ):
                    return False
            else:
                raise AssertionError(f"evaluator does not know condition operator {operator}")
    return True


def statement_matches(st: dict[str, Any], action: str, resource: str, ctx: dict[str, str]) -> bool:
    return (
        any(wildcard(a, action, ignore_case=True) for a in as_list(st["Action"]))
        and any(wildcard(r, resource) for r in as_list(st["Resource"]))
        and conditions_hold(st.get("Condition", {}), ctx)
    )


def allowed(doc: dict[str, Any], action: str, resource: str, **ctx: str) -> bool:
    """Identity-policy evaluation: an explicit deny wins, else any allow, else implicit deny."""
    matching = [s for s in doc["Statement"] if statement_matches(s, action, resource, ctx)]
    if any(s["Effect"] == "Deny" for s in matching):
        return False
    return any(s["Effect"] == "Allow" for s in matching)


def can(doc: dict[str, Any], prefix: str, action: str, key: str) -> bool:
    """May the role do ``action`` on the store key ``key`` (an object action)?"""
    return allowed(doc, action, f"arn:aws:s3:::{BUCKET}/{prefix}{key}")


def can_list(doc: dict[str, Any], prefix: str, list_prefix: str) -> bool:
    """ListObjectsV2 with Prefix=<store prefix><list_prefix>.

    S3 applies the same check, with the object key as ``s3:prefix``, when deciding between
    404 and 403 for a missing key: head()/exists() on a key need it to report "absent".
    """
    return allowed(
        doc, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", **{"s3:prefix": prefix + list_prefix}
    )


# ---------------------------------------------------------------- sample keys from the layout

LANDING = layout.landing_prefix("transactions") + "2026-11-20/transactions-2026-11-20.csv"
CURATED = layout.curated_key("transactions", "2026-11-20", SHA)
QUARANTINE = layout.quarantine_key("transactions", "2026-11-20", "transactions-bad.csv")
QUARANTINE_REPORT = QUARANTINE + ".validation.json"
QUARANTINE_PAGE = QUARANTINE + ".validation.html"
VALIDATION = layout.validation_key("transactions", "2026-11-20", "transactions.csv", SHA)
VALIDATION_PAGE = VALIDATION + ".validation.html"
MANIFEST = layout.manifest_key("transactions", "v3")
MODEL = layout.model_key("fraud", "v4", "model.txt")
CARD = layout.model_key("fraud", "v4", "card.json")
REFERENCE = layout.model_key("fraud", "v4", "reference.json")
CHAMPION = layout.champion_key("fraud")
CHECKPOINT = layout.checkpoint_prefix("fraud", RUN_KEY) + "round-000040.txt"
CHECKPOINT_POINTER = layout.checkpoint_prefix("fraud", RUN_KEY) + "latest.json"
REPORT = layout.report_key("fraud", "v4", "report.html")
ALL_KEYS = (
    LANDING, CURATED, QUARANTINE, QUARANTINE_REPORT, QUARANTINE_PAGE, VALIDATION_PAGE, MANIFEST,
    MODEL, CARD, REFERENCE, CHAMPION, CHECKPOINT, CHECKPOINT_POINTER, REPORT,
)  # fmt: skip

# What each role's code does to the store (tasks/ingest.py, promote.py, artifacts.py,
# checkpoints.py; serving systems read champion.json and the artifacts it names).
NEEDS: dict[str, list[tuple[str, str]]] = {
    "ingestion": [
        ("s3:GetObject", LANDING),  # read (and head) each new landing file
        ("s3:PutObject", CURATED),
        ("s3:GetObject", CURATED),  # write-once conflict check; referenced snapshots
        ("s3:PutObject", MANIFEST),
        ("s3:GetObject", MANIFEST),  # the parent version's manifest
        ("s3:PutObject", QUARANTINE),
        ("s3:PutObject", QUARANTINE_REPORT),
        ("s3:PutObject", QUARANTINE_PAGE),
        ("s3:PutObject", VALIDATION + ".validation.json"),  # an accepted file's report
        ("s3:PutObject", VALIDATION_PAGE),
        ("s3:GetObject", QUARANTINE),  # never overwrite an earlier, different file
    ],
    "training": [
        ("s3:GetObject", MANIFEST),
        ("s3:GetObject", CURATED),
        ("s3:GetObject", MODEL),  # the champion, scored on the same holdout
        ("s3:GetObject", CARD),
        ("s3:GetObject", CHAMPION),
        ("s3:PutObject", MODEL),
        ("s3:PutObject", CARD),
        ("s3:PutObject", REFERENCE),
        ("s3:PutObject", CHAMPION),
        ("s3:PutObject", REPORT),
        ("s3:PutObject", CHECKPOINT),
        ("s3:PutObject", CHECKPOINT_POINTER),
        ("s3:GetObject", CHECKPOINT_POINTER),
        ("s3:GetObject", CHECKPOINT),
        ("s3:DeleteObject", CHECKPOINT),  # cleared after a successful registration
        ("s3:DeleteObject", CHECKPOINT_POINTER),
    ],
    "serving": [
        ("s3:GetObject", CHAMPION),
        ("s3:GetObject", MODEL),
        ("s3:GetObject", CARD),
        ("s3:GetObject", REFERENCE),
    ],
    # Dask workers read the partitions a training run names (tasks/io/cluster_data.py).
    "dask-worker": [("s3:GetObject", CURATED)],
}
LISTS: dict[str, list[str]] = {
    "ingestion": [
        layout.landing_prefix("transactions"),
        QUARANTINE,  # head() of a quarantine key that is not there yet must be a 404
    ],
    "training": [
        layout.checkpoint_prefix("fraud", RUN_KEY),
        CHECKPOINT_POINTER,  # exists(latest.json) before the first checkpoint
        CHAMPION,  # head(champion.json) before the first promotion
    ],
    "serving": ["models/fraud/", CHAMPION],
    "dask-worker": [],  # keys from a manifest: a missing one is an error either way
}


def prefixes() -> Iterator[str]:
    yield ""  # s3://bucket
    yield "retrain/prod/"  # s3://bucket/retrain/prod


@pytest.fixture(params=list(prefixes()), ids=["bucket-root", "under-a-prefix"])
def prefix(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


# ---------------------------------------------------------------- the documents


@pytest.mark.parametrize("role", ROLES)
def test_document_is_a_valid_policy_with_only_known_placeholders(role: str) -> None:
    text = (IAM / f"{role}-role.json").read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= {"BucketName", "Prefix", "KmsKeyArn", "Region"}
    doc = raw(role)
    assert doc["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in doc["Statement"]]
    assert len(sids) == len(set(sids))
    for st in doc["Statement"]:
        assert st["Effect"] in ("Allow", "Deny")
        assert set(st) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
    assert "${" not in json.dumps(render(role, "retrain/"))


@pytest.mark.parametrize("role", ROLES)
def test_no_wildcard_actions_and_no_bucket_wide_grants(role: str) -> None:
    for st in raw(role)["Statement"]:
        for action in as_list(st["Action"]):
            assert "*" not in action and "?" not in action, f"{st['Sid']}: {action}"
        if st["Effect"] != "Allow":
            continue
        for resource in as_list(st["Resource"]):
            assert resource != "*", st["Sid"]
            if resource.startswith("arn:aws:s3:::"):
                # an object grant names a layout prefix; never the whole bucket
                assert not resource.endswith("${BucketName}/*"), st["Sid"]
                assert not resource.endswith("${Prefix}*"), st["Sid"]


@pytest.mark.parametrize("role", ROLES)
def test_kms_is_limited_to_the_store_key_and_to_s3(role: str) -> None:
    kms = [st for st in raw(role)["Statement"] if as_list(st["Action"])[0].startswith("kms:")]
    assert kms, "no KMS statement: SSE-KMS objects could not be read or written"
    for st in kms:
        assert st["Resource"] == "${KmsKeyArn}"
        assert set(as_list(st["Action"])) <= {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
        assert st["Condition"] == {"StringEquals": {"kms:ViaService": "s3.${Region}.amazonaws.com"}}
    actions = {a for st in kms for a in as_list(st["Action"])}
    writes = any(
        "s3:PutObject" in as_list(st["Action"])
        for st in raw(role)["Statement"]
        if st["Effect"] == "Allow"
    )
    assert ("kms:GenerateDataKey" in actions) == writes  # needed exactly to write SSE-KMS


@pytest.mark.parametrize("role", ROLES)
def test_every_granted_prefix_is_a_layout_prefix(role: str) -> None:
    top_level = {key.split("/")[0] for key in ALL_KEYS}
    for st in raw(role)["Statement"]:
        for resource in as_list(st["Resource"]):
            if "${Prefix}" in resource:
                assert resource.split("${Prefix}")[1].split("/")[0] in top_level, resource
        for value in as_list(st.get("Condition", {}).get("StringLike", {}).get("s3:prefix", [])):
            assert value.split("${Prefix}")[1].split("/")[0] in top_level, value


# ---------------------------------------------------------------- each role can do its job


@pytest.mark.parametrize("role", ROLES)
def test_each_role_can_do_what_its_code_does(role: str, prefix: str) -> None:
    doc = render(role, prefix)
    refused = [(a, k) for a, k in NEEDS[role] if not can(doc, prefix, a, k)]
    assert not refused, f"{role} cannot: {refused}"
    unlisted = [p for p in LISTS[role] if not can_list(doc, prefix, p)]
    assert not unlisted, f"{role} cannot list (or get 404s) under: {unlisted}"
    assert allowed(doc, "kms:Decrypt", KMS_KEY, **{"kms:ViaService": f"s3.{REGION}.amazonaws.com"})
    assert not allowed(
        doc, "kms:Decrypt", KMS_KEY, **{"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}
    )


@pytest.mark.parametrize("role", ROLES)
def test_nothing_beyond_what_the_role_needs(role: str, prefix: str) -> None:
    """Every (object action, sample key) pair the role is allowed is one it needs, or a read of
    a prefix it already reads for another key (models/<m>/<v>/reference.json and the like)."""
    doc = render(role, prefix)
    needed_prefixes = {(action, key.split("/")[0]) for action, key in NEEDS[role]}
    for action in OBJECT_ACTIONS:
        for key in ALL_KEYS:
            if can(doc, prefix, action, key):
                assert (action, key.split("/")[0]) in needed_prefixes, (role, action, key)


def test_ingestion_cannot_touch_models_checkpoints_or_reports(prefix: str) -> None:
    doc = render("ingestion", prefix)
    for key in (MODEL, CARD, CHAMPION, CHECKPOINT, REPORT):
        assert not can(doc, prefix, "s3:PutObject", key), key
        assert not can(doc, prefix, "s3:GetObject", key), key
    assert not can(doc, prefix, "s3:PutObject", LANDING)  # producers write landing/, not us
    assert not can_list(doc, prefix, "models/")


def test_serving_cannot_write_or_delete_anything(prefix: str) -> None:
    doc = render("serving", prefix)
    for key in ALL_KEYS:
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert not can(doc, prefix, action, key), (action, key)
    for key in (LANDING, CURATED, MANIFEST, QUARANTINE, CHECKPOINT, REPORT):
        assert not can(doc, prefix, "s3:GetObject", key), key  # no training data either
    assert not can_list(doc, prefix, "curated/")


def test_dask_workers_read_the_curated_partitions_and_nothing_else(prefix: str) -> None:
    doc = render("dask-worker", prefix)
    for key in ALL_KEYS:
        assert can(doc, prefix, "s3:GetObject", key) == (key == CURATED), key
        for action in ("s3:PutObject", "s3:DeleteObject"):
            assert not can(doc, prefix, action, key), (action, key)


def test_training_cannot_write_data_or_landing(prefix: str) -> None:
    doc = render("training", prefix)
    for key in (LANDING, CURATED, MANIFEST, QUARANTINE):
        assert not can(doc, prefix, "s3:PutObject", key), key
    assert not can(doc, prefix, "s3:GetObject", LANDING)


def test_only_training_deletes_and_only_checkpoints(prefix: str) -> None:
    for role in ROLES:
        doc = render(role, prefix)
        for key in ALL_KEYS:
            expected = role == "training" and key.startswith("checkpoints/")
            assert can(doc, prefix, "s3:DeleteObject", key) == expected, (role, key)


def test_grants_do_not_leak_across_store_prefixes() -> None:
    """With the store under retrain/prod/, a sibling prefix in the bucket stays out of reach."""
    doc = render("training", "retrain/prod/")
    assert can(doc, "retrain/prod/", "s3:PutObject", MODEL)
    assert not can(doc, "retrain/staging/", "s3:PutObject", MODEL)
    assert not can(doc, "", "s3:PutObject", MODEL)
    assert not can_list(doc, "retrain/staging/", "models/")


def test_the_evaluator_itself_refuses_and_allows() -> None:
    """The matcher must not be vacuous: a deny wins, wildcards stop where they should."""
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/models/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/models/x"},
        ]
    }
    assert allowed(doc, "s3:GetObject", "arn:aws:s3:::b/models/fraud/v1/model.txt")
    assert allowed(doc, "S3:getobject", "arn:aws:s3:::b/models/y")  # actions ignore case
    assert not allowed(doc, "s3:GetObject", "arn:aws:s3:::b/models/x")
    assert not allowed(doc, "s3:GetObject", "arn:aws:s3:::b/modelsx")
    assert not allowed(doc, "s3:PutObject", "arn:aws:s3:::b/models/y")
    assert not allowed(doc, "s3:GetObject", "arn:aws:s3:::b/Models/y")  # resources do not
