"""Rebuilding every stored projection from the events (`timeline rebuild`).

Projections are computed in worker processes (a fold is pure Python: one core
each), a chunk of authorities at a time, and written by the worker that made
them, a chunk per transaction. (Sent back to be written by the calling process,
they cost it 11 s of CPU, pickles and writes, in a 29 s rebuild of 1M events,
on the same two cores as the workers' 47.) A stream appended to while its
projection was being computed is projected again inside the writing
transaction, so a rebuild never stores a projection older than its stream.
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


def _project_chunk(task: tuple[Callable[[], EventStore], list[str], date, bool]) -> int:
    """A worker process's task: make and store one chunk's projections; how many."""
    global _worker_store
    open_store, slugs, today, incremental = task
    if _worker_store is None:  # one store (one connection) per worker process, for all its chunks
        _worker_store = open_store()
    return _project_into(_worker_store, slugs, today, incremental)


def _project_into(store: EventStore, slugs: list[str], today: date, incremental: bool) -> int:
    """Make the projections of `slugs` (incremental: only what their new events can change) and store them in one
    transaction; how many."""
    made: list[tuple[str, Projection]]
    if incremental:  # as the store brings a due projection up to date itself
        store.projector_for = lambda authority: StreamProjector(authority, today)
        made = [(slug, store.projection_now(slug)) for slug in slugs]
    else:
        made = [(slug, projection_of(slug, store.read_stream(slug), today)) for slug in slugs]
    store.save_projections(made, lambda slug: lambda events: projection_of(slug, events, today))
    return len(made)


def rebuild_all(store: EventStore, open_store: Callable[[], EventStore], today: date, *, processes: int | None = None,
                progress: Callable[[int], None] = lambda done: None, slugs: list[str] | None = None) -> int:
    """Recompute and store every stream's projection (or bring those of `slugs` up to date, making only what their
    new events can change); return how many streams. `open_store` must pickle."""
    incremental = slugs is not None
    slugs = store.authorities_with_events() if slugs is None else slugs
    tasks = [(open_store, slugs[i:i + CHUNK], today, incremental) for i in range(0, len(slugs), CHUNK)]
    processes = processes or min(len(tasks), os.cpu_count() or 1)
    if processes <= 1:
        own = open_store()  # as a worker's: the caller's store keeps its projector and its transactions
        try:
            for _, chunk, _, _ in tasks:
                progress(_project_into(own, chunk, today, incremental))
        finally:
            own.close()
        return len(slugs)
    # Not multiprocessing.Pool: a worker that dies (killed, or failing to start) loses its task there and the
    # rebuild waits for it forever; here it raises BrokenProcessPool.
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    try:
        for count in pool.map(_project_chunk, tasks):
            progress(count)
    finally:
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
