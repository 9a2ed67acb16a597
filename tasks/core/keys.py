"""Identity of a training: the same inputs always give the same key."""

from __future__ import annotations

import hashlib
import json


def training_key(
    model: str, dataset_versions: dict[str, str], spec_fingerprint: str, code_version: str
) -> str:
    """sha256 of (model, dataset versions, spec incl. params and policy, code version)."""
    payload = json.dumps(
        {
            "model": model,
            "datasets": dict(sorted(dataset_versions.items())),
            "spec": spec_fingerprint,
            "code": code_version,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()
