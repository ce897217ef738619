"""Sending the outbox: POST each due delivery, signed, and record what happened."""
from __future__ import annotations

import http.client
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlite_utils import Database

from events import deliveries, receiver_address
from events.deliveries import Attempt, DeliverySettings

log = logging.getLogger(__name__)
USER_AGENT = "childrens-services-timeline-webhooks/1"
MAX_ERROR = 500
CLAIM_MARGIN = timedelta(seconds=60)

Sender = Callable[[str, dict, bytes, float], Attempt]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver that redirects has not received: 3xx is a failed attempt, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _PublicHTTPConnection(http.client.HTTPConnection):
    """Connects only to public addresses, checked on the very addresses it connects to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = receiver_address.connect


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    """As _PublicHTTPConnection, with TLS (certificate checked against the url's host name)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = receiver_address.connect


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


# Deliveries go straight to the receiver, never through an environment proxy: the guard checks where we connect.
_opener = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}))
_public_opener = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}), _PublicHTTPHandler,
                                             _PublicHTTPSHandler)


def post(url: str, headers: dict, body: bytes, timeout: float, allow_private: bool | None = None) -> Attempt:
    """POST once; the status code, or the error (refused, timed out, …), and how long it took.

    Unless private receivers are allowed (TIMELINE_WEBHOOK_ALLOW_PRIVATE), a host that resolves to a
    non-public address is refused before anything is sent: a failed attempt whose error says why.
    """
    started = time.monotonic()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    allowed = receiver_address.private_allowed() if allow_private is None else allow_private
    status, error = None, None
    try:
        with (_opener if allowed else _public_opener).open(request, timeout=timeout) as response:
            status = response.status
            response.read(64 * 1024)  # drain a little so keep-alive receivers are not cut off mid-write
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = f"HTTP {exc.code} {exc.reason}".strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = (str(reason) if isinstance(reason, receiver_address.RefusedAddress)
                 else f"{type(reason).__name__}: {reason}")[:MAX_ERROR]
    return Attempt(status, error, int((time.monotonic() - started) * 1000))


def headers_for(delivery: dict, timestamp: int) -> dict:
    """The headers of one delivery: its id, topic, timestamp and signature over timestamp.body."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timeline-Delivery": delivery["id"],
        "X-Timeline-Topic": delivery["topic"],
        "X-Timeline-Timestamp": str(timestamp),
        "X-Timeline-Signature": deliveries.sign(delivery["secret"], timestamp, delivery["body"]),
    }


def deliver_due(db: Database, now: datetime, settings: DeliverySettings, send: Sender | None = None,
                limit: int = 100) -> dict:
    """The deliver job: send every due delivery once; counts of delivered, retrying, dead, and deferred
    (not tried this run because the same receiver had just failed). By default sent with `post`, which
    refuses non-public receivers unless settings (or TIMELINE_WEBHOOK_ALLOW_PRIVATE) allow them."""
    send = send or partial(post, allow_private=settings.allow_private)
    counts = {"delivered": 0, "pending": 0, "dead": 0, "skipped": 0, "deferred": 0}
    started = time.monotonic()
    failing: set[int] = set()
    for delivery in deliveries.due(db, now, limit):
        if delivery["webhook_id"] in failing:
            # One failure per receiver per run: a dead receiver must not hold up everyone else's deliveries
            # for timeout x backlog seconds. The rest stay due, untouched, for the next run.
            counts["deferred"] += 1
            continue
        if not deliveries.claim(db, delivery, now + timedelta(seconds=settings.timeout) + CLAIM_MARGIN):
            counts["skipped"] += 1  # another sender took it
            continue
        # Sign with the time of sending, not of the run's start: receivers reject stale timestamps.
        timestamp = int((now + timedelta(seconds=time.monotonic() - started)).timestamp())
        attempt = send(delivery["url"], headers_for(delivery, timestamp), delivery["body"].encode(),
                       settings.timeout)
        state = deliveries.record(db, delivery, attempt, now, settings)
        counts[state] += 1
        if state != "delivered":
            failing.add(delivery["webhook_id"])
            log.warning("delivery %s to webhook %s failed (attempt %s): %s; now %s", delivery["id"],
                        delivery["webhook_id"], delivery["attempts"] + 1, attempt.error, state)
    return counts
