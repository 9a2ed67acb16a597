"""Prefect events (DESIGN section 7): the only place that talks to Prefect's events API."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def dataset_resource(dataset: str) -> str:
    return f"retrain.dataset.{dataset}"


def model_resource(model: str) -> str:
    return f"retrain.model.{model}"


def emit(
    event: str, resource_id: str, payload: dict[str, Any], labels: dict[str, str] | None = None
) -> str | None:
    """Emit one event; returns its id, or None when no events client is configured.

    ``labels`` are extra resource labels that triggers can match on (for example
    ``retrain.action`` on ``retrain.model.degraded``).

    Emission is best effort by Prefect's design (the worker buffers and sends
    in the background); the registry, not the event, is the record of truth.
    """
    from prefect.events import emit_event

    resource = {"prefect.resource.id": resource_id, **(labels or {})}
    sent = emit_event(event=event, resource=resource, payload=payload)
    if sent is None:
        log.warning("event %s for %s was not emitted (no events client)", event, resource_id)
        return None
    return str(sent.id)
