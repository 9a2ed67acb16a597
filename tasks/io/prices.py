"""The price table: ``RETRAIN_PRICES_FILE``, else the dated table shipped in ``schemas/``."""

from __future__ import annotations

from importlib import resources

import yaml

from schemas.errors import SpecError
from schemas.settings import Settings
from tasks.core.costs import PriceTable

SHIPPED = "prices.yaml"  # package data of `schemas` (infra/prices.yaml links to it)


def load_price_table(settings: Settings) -> PriceTable:
    """The configured price table.

    Raises:
        SpecError: the configured file does not exist or is not a valid price table
            (the file is named).
    """
    if settings.prices_file is not None:
        path = settings.prices_file
        if not path.is_file():
            raise SpecError(f"price table {path} does not exist")
        where, text = str(path), path.read_text(encoding="utf-8")
    else:
        where = f"schemas/{SHIPPED}"
        text = resources.files("schemas").joinpath(SHIPPED).read_text(encoding="utf-8")
    try:
        return PriceTable.from_dict(yaml.safe_load(text) or {})
    except (yaml.YAMLError, SpecError) as exc:
        raise SpecError(f"{where}: {exc}") from exc
