"""Code version: a digest of the package source that shapes training."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

_PACKAGES = ("tasks", "schemas")


def code_version() -> str:
    """``<package version>+<12 hex digits>`` over every .py and .yaml file of tasks/ and schemas/.

    Changing training code (or a shipped spec) changes it; flows and the CLI do not.
    """
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in {".py", ".yaml"} and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    try:
        version = metadata.version("retrain")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+{digest.hexdigest()[:12]}"
