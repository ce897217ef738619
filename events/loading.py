"""Loading events from NDJSON: the bundled Manchester history and `timeline load FILE`.

Each line is an append request plus its `authority`; fields only the server may
set (version, position, recorded_at, recorded_by) are ignored, so a load can
never forge transaction time. Loading is idempotent through `event_id`.
"""
from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from importlib.resources import files

from events.appending import CheckedRequest, append_event, check_authority, check_request
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
               batch_size: int = BATCH_SIZE, project_due: Callable[[], object] | None = None,
               checkers: int = 0) -> LoadReport:
    """Append each NDJSON line's event; report what was appended, already there or refused.

    Lines go in batches of `batch_size`: one transaction each, every event through
    `append_event` as over HTTP. With `checkers` > 1, that many worker processes
    parse and validate the batches ahead of the one being appended (the checks
    that need no store; those that do are made here, in order). Then the
    projections of the streams loaded are made, once each, by `project_due`
    (default: the store's, in this process).
    """
    report = LoadReport()
    numbered = enumerate(lines, 1)
    batches = iter(lambda: list(islice(numbered, batch_size)), [])
    for batch in _checked(batches, checkers):
        with store.batch():
            _append_batch(store, registry, batch, recorded_by, report)
    (project_due or store.project_due)()
    return report


@dataclass(frozen=True)
class CheckedLine:
    """One line parsed and validated: its authority and request, or why it is refused."""

    number: int
    authority: str
    request: CheckedRequest | None
    refusal: dict | None  # detail, errors and whether it named an authority, when the line is not a valid request


def check_lines(batch: list[tuple[int, str]]) -> list[CheckedLine]:
    """Parse and validate numbered lines (blank ones skipped), as a worker process does."""
    out = []
    for number, line in batch:
        if not line.strip():
            continue
        authority, request, refusal, parsed = "", None, None, False
        try:
            body = json.loads(line)
            if not isinstance(body, dict):
                raise ValueError("a line must be a JSON object")
            authority, parsed = str(body.pop("authority", None)), True
            for name in SERVER_FIELDS:
                body.pop(name, None)
            request = check_request(body)
        except (ValueError, DomainError) as exc:
            # `parsed`: the line named an authority, which is checked first, as a single append checks it
            refusal = {"detail": str(exc), "errors": getattr(exc, "errors", []), "parsed": parsed}
        out.append(CheckedLine(number, authority, request, refusal))
    return out


def _checked(batches: Iterator[list[tuple[int, str]]], checkers: int) -> Iterator[list[CheckedLine]]:
    """The batches checked, in order: here, or by `checkers` processes a few batches ahead."""
    if checkers <= 1:
        yield from map(check_lines, batches)
        return
    with ProcessPoolExecutor(checkers, mp_context=multiprocessing.get_context("spawn")) as pool:
        ahead: deque = deque()
        for batch in batches:
            ahead.append(pool.submit(check_lines, batch))
            if len(ahead) > 2 * checkers:  # bounded: a large file is never read whole into memory
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def _append_batch(store: EventStore, registry: Registry, batch: list[CheckedLine], recorded_by: str,
                  report: LoadReport) -> None:
    for line in batch:
        try:
            refusal = line.refusal
            if refusal is not None and refusal["parsed"]:
                check_authority(registry, line.authority)  # an unknown authority is the first thing said
            if refusal is not None:
                report.refused.append({"line": line.number, "detail": refusal["detail"],
                                       "errors": refusal["errors"]})
                continue
            result = append_event(store, registry, line.authority, None, checked=line.request,
                                  recorded_by=recorded_by)
        except DomainError as exc:
            report.refused.append({"line": line.number, "detail": str(exc), "errors": getattr(exc, "errors", [])})
            continue
        if result.replayed:
            report.already_present += 1
        else:
            report.appended += 1
