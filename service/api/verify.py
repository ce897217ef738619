"""GET /api/verify: recompute the hash chains over the stored events and report the first broken link."""
from __future__ import annotations

from marshmallow import Schema, fields

from events.schemas import Strict
from events.verify import verify
from service.api.blueprint import Blueprint, json_response, services

blp = Blueprint("verify", __name__, url_prefix="/api", description="Tamper evidence: the events' hash chains")


class NoQuery(Strict):
    """No parameters: anything in the query string is refused."""


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


class Verification(Schema):
    ok = fields.Boolean()
    events_checked = fields.Integer(metadata={"description": "events whose links were intact before any break"})
    streams_checked = fields.Integer()
    first_broken = fields.Nested(BrokenLink, allow_none=True)
    head = fields.Nested(ChainHead, allow_none=True, metadata={"description": "the last link, when intact"})


@blp.route("/verify")
@blp.arguments(NoQuery, location="query")
@blp.response(200, Verification)
def get_verify(_query):
    """Recompute every event's per-stream and global hash and check stream versions: ok, or the first broken link.

    200 either way; `ok` is the answer. Reads every event, so it takes time in proportion to the store.
    """
    found = verify(services().store.iter_chain())
    return json_response(found.to_dict(), headers={"Cache-Control": "no-store"})
