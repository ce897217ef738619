"""Rebuilding every stored projection from the events (`timeline rebuild`).

Projections are computed in worker processes (a fold is pure Python: one core
each), a chunk of authorities at a time, and written by the calling process,
a chunk per transaction. A stream appended to while its projection was being
computed is projected again inside the writing transaction, so a rebuild never
stores a projection older than its stream.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from datetime import date

from events.projections.status import projection_of
from events.store import EventStore, Projection

CHUNK = 100  # authorities per task and per transaction
_worker_store: EventStore | None = None


def _project_chunk(task: tuple[Callable[[], EventStore], list[str], date]) -> list[tuple[str, Projection]]:
    global _worker_store
    open_store, slugs, today = task
    if _worker_store is None:  # one store (one connection) per worker process
        _worker_store = open_store()
    return [(slug, projection_of(slug, _worker_store.read_stream(slug), today)) for slug in slugs]


def rebuild_all(store: EventStore, open_store: Callable[[], EventStore], today: date, *, processes: int | None = None,
                progress: Callable[[int], None] = lambda done: None) -> int:
    """Recompute and store every stream's projection; return how many streams. `open_store` must pickle."""
    slugs = store.authorities_with_events()
    tasks = [(open_store, slugs[i:i + CHUNK], today) for i in range(0, len(slugs), CHUNK)]
    project = lambda slug: lambda events: projection_of(slug, events, today)  # noqa: E731
    processes = processes or min(len(tasks), os.cpu_count() or 1)
    if processes <= 1:
        results = map(_project_chunk, tasks)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(processes)
        results = pool.imap(_project_chunk, tasks)
    try:
        for chunk in results:
            store.save_projections(chunk, project)
            progress(len(chunk))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return len(slugs)
