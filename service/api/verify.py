"""GET /api/verify: recompute the hash chains over the stored events and report the first broken link.

A request checks a bounded window (`from`, `limit`) so that no worker is held for minutes on a big store;
the clock's nightly `verify` job walks the whole chain and its last result is reported alongside.
"""
from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from events import clock_state
from events.schemas import Strict
from events.verify import verify_store
from service.api.blueprint import Blueprint, json_response, services

blp = Blueprint("verify", __name__, url_prefix="/api", description="Tamper evidence: the events' hash chains")

DEFAULT_LIMIT = 50_000
MAX_LIMIT = 250_000
MAX_POSITION = 2**63 - 1  # SQLite integers


class VerifyQuery(Strict):
    from_ = fields.Integer(data_key="from", load_default=1, validate=validate.Range(min=1, max=MAX_POSITION),
                           metadata={"description": "first position to check; the chains before it are taken as "
                                                    "stored (the nightly run checks them)"})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"most positions checked by this request (default "
                                                    f"{DEFAULT_LIMIT:,}, at most {MAX_LIMIT:,}); go on from `next_from`"})


class BrokenLink(Schema):
    position = fields.Integer()
    event_id = fields.String()
    authority = fields.String(allow_none=True, metadata={"description": "null when the event itself is gone"})
    chain = fields.String(metadata={"description": "global | stream"})
    reason = fields.String()


class ChainHead(Schema):
    position = fields.Integer()
    event_id = fields.String()
    global_hash = fields.String(metadata={"description": "keep a copy elsewhere to detect a rewritten chain"})


class LastFullRun(Schema):
    started_at = fields.String()
    finished_at = fields.String(allow_none=True)
    ok = fields.Boolean(allow_none=True, metadata={"description": "null while running"})
    detail = fields.Dict(allow_none=True, metadata={"description": "that run's verification (this same shape), "
                                                                   "or why it failed"})


class Verification(Schema):
    ok = fields.Boolean(metadata={"description": "no broken link in the positions checked"})
    events_checked = fields.Integer(metadata={"description": "events whose links were intact before any break"})
    streams_checked = fields.Integer()
    first_broken = fields.Nested(BrokenLink, allow_none=True)
    head = fields.Nested(ChainHead, allow_none=True, metadata={"description": "the last link checked, when intact"})
    from_position = fields.Integer(metadata={"description": "the first position checked"})
    through_position = fields.Integer(allow_none=True, metadata={"description": "the last position checked"})
    complete = fields.Boolean(metadata={"description": "true when the check reached the end of the store"})
    next_from = fields.Integer(allow_none=True, metadata={"description": "where to go on from (also a Link: "
                                                                         "rel=next header); null when complete"})
    last_full_run = fields.Nested(LastFullRun, allow_none=True,
                                  metadata={"description": "the clock's last whole-chain verification (nightly "
                                                           "`verify` job), or null if it has not run"})


@blp.route("/verify")
@blp.arguments(VerifyQuery, location="query", as_kwargs=True)
@blp.response(200, Verification, headers={"Link": {"description": "`<…?from=N&limit=L>; rel=\"next\"` when the "
                                                                  "window did not reach the end",
                                                   "schema": {"type": "string"}}})
def get_verify(from_=1, limit=DEFAULT_LIMIT):
    """Recompute each event's per-stream and global hash and check stream versions, over at most `limit` positions
    from `from`: ok, or the first broken link.

    200 either way; `ok` is the answer for the positions checked, `complete` says whether they reached the end.
    Bounded so that no request holds a worker for long on a big store: walk on with `next_from` (or the Link
    header), or rely on `last_full_run`, the clock's nightly verification of the whole chain.
    """
    store = services().store
    found = verify_store(store, from_, limit).to_dict()
    found["last_full_run"] = _last_full_run(store)
    headers = {"Cache-Control": "no-store"}
    if found["next_from"]:
        headers["Link"] = f'<{url_for("verify.get_verify", **{"from": found["next_from"], "limit": limit})}>; rel="next"'
    return json_response(found, headers=headers)


def _last_full_run(store) -> dict | None:
    run = clock_state.last_runs(store.db).get("verify")
    return None if run is None else {key: run[key] for key in ("started_at", "finished_at", "ok", "detail")}
