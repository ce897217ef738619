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
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from events.projections.incremental import StreamProjector
from events.projections.status import projection_of
from events.store import EventStore, Projection

CHUNK = 100  # authorities per task and per transaction
PARALLEL_FROM = 200  # due streams from which project_due starts worker processes (each costs about a second)
_worker_store: EventStore | None = None


def _project_chunk(task: tuple[Callable[[], EventStore], list[str], date, bool]) -> list[tuple[str, Projection]]:
    global _worker_store
    open_store, slugs, today, incremental = task
    if _worker_store is None:  # one store (one connection) per worker process
        _worker_store = open_store()
    store = _worker_store
    if incremental:  # as the store brings a due projection up to date itself
        store.projector_for = lambda authority: StreamProjector(authority, today)
        return [(slug, store.projection_now(slug)) for slug in slugs]
    return [(slug, projection_of(slug, store.read_stream(slug), today)) for slug in slugs]


def rebuild_all(store: EventStore, open_store: Callable[[], EventStore], today: date, *, processes: int | None = None,
                progress: Callable[[int], None] = lambda done: None, slugs: list[str] | None = None) -> int:
    """Recompute and store every stream's projection (or bring those of `slugs` up to date, making only what their
    new events can change); return how many streams. `open_store` must pickle."""
    incremental = slugs is not None
    slugs = store.authorities_with_events() if slugs is None else slugs
    tasks = [(open_store, slugs[i:i + CHUNK], today, incremental) for i in range(0, len(slugs), CHUNK)]
    project = lambda slug: lambda events: projection_of(slug, events, today)  # noqa: E731
    processes = processes or min(len(tasks), os.cpu_count() or 1)
    if processes <= 1:
        results = map(_project_chunk, tasks)
        pool = None
    else:
        # Not multiprocessing.Pool: a worker that dies (killed, or failing to start) loses its task there and the
        # rebuild waits for it forever; here it raises BrokenProcessPool.
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(_project_chunk, tasks)
    try:
        for chunk in results:
            store.save_projections(chunk, project)
            progress(len(chunk))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return len(slugs)


def project_due(store: EventStore, open_store: Callable[[], EventStore], today: date, *,
                processes: int | None = None) -> int:
    """Bring every due projection up to date (see `EventStore.project_due`), in worker processes when there are
    enough of them to pay for starting those (after a bulk load); return how many were made."""
    due = store.due_authorities()
    if len(due) < PARALLEL_FROM:
        return store.project_due()
    return rebuild_all(store, open_store, today, processes=processes, slugs=due)
