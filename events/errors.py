"""Domain errors. Each carries what an API needs to explain it; none knows HTTP."""
from __future__ import annotations


class DomainError(Exception):
    """Base of errors the service reports to clients."""

    title = "Request refused"
    code = "request-refused"  # names the problem type; stable for clients to match on

    def __init__(self, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidEvent(DomainError):
    """The event failed validation; `errors` names each bad field and why."""

    title = "The event is not valid"
    code = "invalid-event"


class UnknownAuthority(DomainError):
    """No authority with that slug in the registry."""

    title = "Unknown authority"
    code = "unknown-authority"


class UnknownEvent(DomainError):
    """No event with that id."""

    title = "Unknown event"
    code = "unknown-event"


class VersionConflict(DomainError):
    """Another append reached the stream first (optimistic concurrency)."""

    title = "Stream version conflict"
    code = "version-conflict"

    def __init__(self, stream: str, expected: int, actual: int):
        super().__init__(
            f"Expected {stream} to be at version {expected} but it is at version {actual}; "
            "read the stream again and retry with the current version.",
            [{"field": "expected_version", "reason": f"stream is at version {actual}"}],
        )
        self.expected = expected
        self.actual = actual


class IdempotencyMismatch(DomainError):
    """The idempotency key (or event_id) was used before with a different request."""

    title = "Idempotency key reused with a different request"
    code = "idempotency-key-reused"


class EventIdReused(IdempotencyMismatch):
    """An event_id was used before for an event with different content."""

    title = "Event id already used for a different event"
    code = "event-id-reused"


class UnreadableDocument(DomainError):
    """The file is not a document we can read (not a PDF or text, encrypted, damaged)."""

    title = "The document cannot be read"
    code = "unreadable-document"


class UnrecognisedDocument(DomainError):
    """Not a document format the importer reads; the detail says what it looked for."""

    title = "The document is not one the importer recognises"
    code = "unrecognised-document"


ERROR_TYPES: tuple[type[DomainError], ...] = (InvalidEvent, UnknownAuthority, UnknownEvent, VersionConflict,
                                              IdempotencyMismatch, EventIdReused, UnreadableDocument,
                                              UnrecognisedDocument)
