"""One loader for every kind of YAML spec: find the file, parse it, validate it.

A spec is looked up first in ``RETRAIN_SPECS_DIR`` (when set), then in the
specs shipped inside this package. Any problem becomes a :class:`SpecError`
whose message names the file and the field.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from schemas.errors import SpecError

SHIPPED_DIR = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)


def find_spec(kind: str, name: str, specs_dir: Path | None) -> Path:
    """Return the path of ``<kind>/<name>.yaml``, user folder first.

    Raises:
        SpecError: no such spec; the message lists the known names.
    """
    folders = [d for d in (specs_dir, SHIPPED_DIR) if d is not None]
    for folder in folders:
        path = folder / kind / f"{name}.yaml"
        if path.is_file():
            return path
    known = sorted({p.stem for d in folders for p in (d / kind).glob("*.yaml")})
    singular = kind.rstrip("s")
    raise SpecError(f"unknown {singular} {name!r} (known: {', '.join(known) or 'none'})")


def list_specs(kind: str, specs_dir: Path | None) -> list[str]:
    """Names of every spec of a kind, user folder and shipped ones together."""
    folders = [d for d in (specs_dir, SHIPPED_DIR) if d is not None]
    return sorted({p.stem for d in folders for p in (d / kind).glob("*.yaml")})


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Parse ``path`` and validate it into ``model``.

    Raises:
        SpecError: unreadable file, invalid YAML, or a field that fails validation
            (the message names the file and the dotted field path).
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML: {_one_line(str(exc))}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SpecError(f"{path}: field '{field}': {first['msg']}{more}") from exc


def spec_hash(path: Path) -> str:
    """sha256 of a spec file's bytes: part of a model's training key."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(text: str) -> str:
    return " ".join(text.split())
