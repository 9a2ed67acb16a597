"""Reading back what runs left in the Prefect API (under the test harness or a server)."""

from __future__ import annotations

import asyncio
from typing import Any


def latest_artifact(key: str) -> Any:
    """The newest artifact with ``key``, or None."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async def read() -> Any:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
            return found[0] if found else None

    return asyncio.run(read())
