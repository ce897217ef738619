"""Atom feeds (RFC 4287) of new events: one per authority and one for all, for feed readers."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Response, request, url_for

from events import queries
from events.describing import KIND_NAMES, headline, summary
from events.store import StoredEvent
from service.api import schemas
from service.api.blueprint import Blueprint, services
from service.api.caching import CACHE_DOCS, IF_NONE_MATCH, etag_for, not_modified, stamp

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
EPOCH = "1970-01-01T00:00:00Z"  # `updated` of a feed with no entries yet
DOCS = {"responses": {"200": {"description": "An Atom 1.0 feed, newest entries first", "headers": CACHE_DOCS,
                              "content": {ATOM_TYPE: {"schema": {"type": "string"}}}},
                      "304": {"description": "Not Modified", "headers": CACHE_DOCS}}}

blp = Blueprint("feeds", __name__, url_prefix="/api", description="Atom feeds of new events")


@blp.route("/feed.atom", parameters=[IF_NONE_MATCH])
@blp.arguments(schemas.AtomQuery, location="query", as_kwargs=True)
@blp.doc(**DOCS)
def global_feed(limit=50):
    """The newest events recorded about any authority, as an Atom feed."""
    store = services().store
    etag = etag_for(store.last_position(), "atom")
    return not_modified(etag) or stamp(_atom("Children's Services Timeline: new events",
                                             store.read_recent(limit)), etag)


@blp.route("/authorities/<slug>/feed.atom", parameters=[IF_NONE_MATCH])
@blp.arguments(schemas.AtomQuery, location="query", as_kwargs=True)
@blp.doc(**dict(DOCS, responses={**DOCS["responses"], "404": {
    "description": "Unknown authority", "content": {"application/problem+json": {"schema": "Problem"}}}}))
def authority_feed(slug, limit=50):
    """The newest events recorded about one authority, as an Atom feed."""
    svc = services()
    authority = queries.authority_or_404(svc.registry, slug)
    etag = etag_for(svc.store.stream_position(slug), "atom")
    return not_modified(etag) or stamp(_atom(f"{authority.name}: children's services timeline",
                                             svc.store.read_recent(limit, slug)), etag)


def _atom(title: str, events: list[StoredEvent]) -> Response:
    """The feed document: id and self link are this feed's URL, updated is the newest entry's recording time."""
    self_url = request.base_url
    feed = ET.Element("feed", xmlns=ATOM)  # unprefixed tags in the Atom default namespace
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    _text(feed, "updated", events[0].recorded_at if events else EPOCH)
    ET.SubElement(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    _text(ET.SubElement(feed, "author"), "name", "Children's Services Timeline")
    _text(feed, "generator", "Children's Services Timeline")
    registry = services().registry
    for event in events:
        _entry(feed, event, registry.get(event.authority))
    body = ET.tostring(feed, encoding="unicode")
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body, content_type=f"{ATOM_TYPE}; charset=utf-8")


def _entry(feed: ET.Element, event: StoredEvent, authority) -> None:
    name = authority.name if authority else event.authority
    entry = ET.SubElement(feed, "entry")
    _text(entry, "id", f"urn:uuid:{event.event_id}")
    _text(entry, "title", headline(event, name))
    _text(entry, "updated", event.recorded_at)
    _text(entry, "published", event.recorded_at)
    root = request.url_root.rstrip("/")
    ET.SubElement(entry, "link", rel="alternate", type="text/html", href=f"{root}/events/{event.event_id}")
    ET.SubElement(entry, "link", rel="related", type="application/json",
                  href=root + url_for("events.get_event", event_id=event.event_id))
    if event.source.get("url"):
        ET.SubElement(entry, "link", rel="via", href=event.source["url"])
    ET.SubElement(entry, "category", term=event.authority, label=name)
    ET.SubElement(entry, "category", term=event.kind, label=KIND_NAMES.get(event.kind, event.kind))
    _text(entry, "summary", summary(event), type="text")


def _text(parent: ET.Element, tag: str, text: str, **attrs) -> ET.Element:
    element = ET.SubElement(parent, tag, **attrs)
    element.text = text
    return element
