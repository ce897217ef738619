"""The nightly check that the stored projections are what the events say.

For every stream, the projection is derived again from its events, as of the
day the stored one was made (its status document's `as_of`: status depends
on the day), and compared row for row with what is stored in
`authority_status`, `concerns` and `judgements`. A difference means a
projection was written by something other than the append path, or the
projection code changed without a `timeline rebuild`.
"""
from __future__ import annotations

import json
from datetime import date

from events.projections.status import projection_of
from events.sqlite_store import SQLiteStore


def check(store: SQLiteStore, today: date) -> dict:
    """Compare every authority's stored projection with one rebuilt from its events; the mismatches found."""
    mismatches = []
    authorities = store.authorities_with_events()
    for authority in authorities:
        differing = differences(store, authority, today)
        if differing:
            mismatches.append({"authority": authority, "tables": differing})
    return {"authorities": len(authorities), "mismatches": mismatches}


def differences(store: SQLiteStore, authority: str, today: date) -> list[str]:
    """The projection tables whose stored rows for `authority` differ from the events' projection."""
    stored = store.read_projection(authority)
    as_of = date.fromisoformat(stored["status"]["as_of"]) if stored else today
    expected = projection_of(authority, store.read_stream(authority), as_of)
    tables = []
    want_status = dict(expected.status, authority=authority)
    if stored is None or _normal(stored) != _normal(want_status):
        tables.append("authority_status")
    for table, rows in (("concerns", expected.concerns), ("judgements", expected.judgements)):
        have = [dict(r) for r in store.db.query(f"SELECT * FROM {table} WHERE authority = ?", [authority])]
        want = [dict(r, authority=authority) for r in rows]
        if _rows(have) != _rows(want):
            tables.append(table)
    return tables


def _normal(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def _rows(rows: list[dict]) -> list[str]:
    return sorted(_normal(r) for r in rows)
