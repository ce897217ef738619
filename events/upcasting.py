"""Upcasters: read old payload versions in today's shape without rewriting stored events.

Stored events keep the schema_version they were written with; projections only
ever see current payloads, lifted here one version at a time.
"""
from __future__ import annotations

from collections.abc import Callable

from events.schemas import CURRENT_VERSION


def _inspection_1_to_2(payload: dict) -> dict:
    """v1 kept areas for improvement as bare strings; v2 has recommendations with section and timescale.

    Nothing is invented: a v1 item becomes a recommendation with no section and no
    timescale (so no due date), exactly what v1 knew.
    """
    lifted = {k: v for k, v in payload.items() if k != "areas_for_improvement"}
    lifted["recommendations"] = [{"text": text} for text in payload.get("areas_for_improvement", [])]
    return lifted


UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {
    ("inspection", 1): _inspection_1_to_2,
}


def upcast(kind: str, schema_version: int, payload: dict) -> dict:
    """The payload lifted to the current schema version of its kind."""
    version = schema_version
    while version < CURRENT_VERSION[kind]:
        payload = UPCASTERS[(kind, version)](payload)
        version += 1
    return payload
