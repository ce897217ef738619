"""Loading events from NDJSON: the bundled Manchester history and `timeline load FILE`.

Each line is an append request plus its `authority`; fields only the server may
set (version, position, recorded_at, recorded_by) are ignored, so a load can
never forge transaction time. Loading is idempotent through `event_id`.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from importlib.resources import files

from events.appending import append_event
from events.errors import DomainError
from events.registry import Registry
from events.store import EventStore

SERVER_FIELDS = ("version", "position", "recorded_at", "recorded_by", "corrections", "as_recorded", "retracted")
BUNDLED = ("manchester.ndjson",)
# Events per transaction: enough that syncs and projections are rare, few enough that a load into a
# live database holds the write lock for a second or two, well inside an API append's 10 s busy timeout.
BATCH_SIZE = 2000


@dataclass
class LoadReport:
    """What a load did, line by line."""

    appended: int = 0
    already_present: int = 0
    refused: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no line was refused."""
        return not self.refused


def bundled_lines() -> Iterator[str]:
    """The lines of every bundled history file shipped inside the package."""
    for name in BUNDLED:
        yield from files("events").joinpath("data", name).read_text(encoding="utf-8").splitlines()


def load_lines(store: EventStore, registry: Registry, lines: Iterable[str], recorded_by: str,
               batch_size: int = BATCH_SIZE, project_due: Callable[[], object] | None = None) -> LoadReport:
    """Append each NDJSON line's event; report what was appended, already there or refused.

    Lines go in batches of `batch_size`: one transaction each, every event through
    `append_event` as over HTTP. Then the projections of the streams loaded are
    made, once each, by `project_due` (default: the store's, in this process).
    """
    report = LoadReport()
    numbered = enumerate(lines, 1)
    while chunk := list(islice(numbered, batch_size)):
        with store.batch():
            _load_chunk(store, registry, chunk, recorded_by, report)
    (project_due or store.project_due)()
    return report


def _load_chunk(store: EventStore, registry: Registry, chunk: list[tuple[int, str]], recorded_by: str,
                report: LoadReport) -> None:
    for number, line in chunk:
        if not line.strip():
            continue
        try:
            body = json.loads(line)
            if not isinstance(body, dict):
                raise ValueError("a line must be a JSON object")
            authority = body.pop("authority", None)
            for name in SERVER_FIELDS:
                body.pop(name, None)
            result = append_event(store, registry, str(authority), body, recorded_by=recorded_by)
        except (ValueError, DomainError) as exc:
            report.refused.append({"line": number, "detail": str(exc), "errors": getattr(exc, "errors", [])})
            continue
        if result.replayed:
            report.already_present += 1
        else:
            report.appended += 1
