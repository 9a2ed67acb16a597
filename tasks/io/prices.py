"""The price table file: RETRAIN_PRICES_FILE, else infra/prices.yaml beside the code."""

from __future__ import annotations

from pathlib import Path

import yaml

from schemas.settings import Settings
from tasks.core.costs import PriceTable
from tasks.errors import SpecError

_DEFAULT = Path(__file__).resolve().parents[2] / "infra" / "prices.yaml"


def load_price_table(settings: Settings) -> PriceTable | None:
    """The price table, or None when no file exists (costs are then not computed).

    Raises:
        SpecError: the file exists but is not a valid price table (file named).
    """
    path = settings.prices_file or _DEFAULT
    if not path.is_file():
        if settings.prices_file is not None:
            raise SpecError(f"price table {path} does not exist")
        return None
    try:
        return PriceTable.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, SpecError) as exc:
        raise SpecError(f"{path}: {exc}") from exc
