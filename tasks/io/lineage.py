"""Code version: a digest of the package source that shapes training."""

from __future__ import annotations

import hashlib
from importlib import metadata, resources
from importlib.resources.abc import Traversable

_PACKAGES = ("tasks", "schemas")
_SUFFIXES = (".py", ".yaml")


def code_version() -> str:
    """``<package version>+<12 hex digits>`` over every .py and .yaml file of tasks/ and schemas/.

    Changing training code (or a shipped spec) changes it; flows and the CLI do not.
    The files are read through ``importlib.resources``, wherever the packages are installed.
    """
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for relative, entry in sorted(_files(resources.files(package), package)):
            digest.update(relative.encode())
            digest.update(entry.read_bytes())
    try:
        version = metadata.version("retrain")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+{digest.hexdigest()[:12]}"


def _files(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    """(``package/relative/path``, entry) of every source file under ``folder``."""
    found = []
    for entry in folder.iterdir():
        path = f"{prefix}/{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                found += _files(entry, path)
        elif entry.name.endswith(_SUFFIXES):
            found.append((path, entry))
    return found
