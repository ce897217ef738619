"""Webhook registrations, their deliveries and replay (admin token)."""
from __future__ import annotations

from flask import Response, current_app, url_for
from marshmallow import ValidationError, fields, validate
from werkzeug.exceptions import NotFound, UnprocessableEntity

from events import deliveries, webhooks
from events.receiver_address import ALLOW_PRIVATE, private_allowed
from events.schemas import Strict
from service.api.blueprint import Blueprint, json_response, services
from service.api.requests import json_body
from service.auth import require_admin

blp = Blueprint("webhooks", __name__, url_prefix="/api", description="Webhooks: signed deliveries of events and alerts")

_PROBLEM = {"content": {"application/problem+json": {"schema": "Problem"}}}
_ADMIN = {"security": [{"bearerAuth": []}]}


class DeliveriesQuery(Strict):
    state = fields.String(validate=validate.OneOf(deliveries.STATES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


def _invalid(exc: ValidationError, detail: str) -> UnprocessableEntity:
    """A 422 problem naming each bad field (the problem handler flattens webargs-style messages)."""
    error = UnprocessableEntity(detail)
    error.data = {"messages": {"json": exc.messages}}
    return error


def _allow_private() -> bool:
    """TIMELINE_WEBHOOK_ALLOW_PRIVATE from the app's config, else the environment."""
    configured = current_app.config.get(ALLOW_PRIVATE)
    return private_allowed({ALLOW_PRIVATE: str(configured)} if configured is not None else None)


def _webhook_or_404(webhook_id: int) -> dict:
    found = webhooks.get(services().store.db, webhook_id)
    if found is None:
        raise NotFound(f"There is no webhook {webhook_id}; GET /api/webhooks lists them.")
    return found


@blp.route("/webhooks", methods=["POST"])
@blp.doc(**_ADMIN, requestBody={"required": True, "content": {"application/json": {"schema": "WebhookRequest"}}},
         responses={"201": {"description": "Registered; the secret is never shown again, only its last 4 characters"},
                    "401": {"description": "No or bad token", **_PROBLEM},
                    "422": {"description": "Invalid registration (each bad field named); a `url` whose host does not "
                                           "resolve, or resolves to a loopback, private, link-local or other "
                                           "non-public address, is refused unless TIMELINE_WEBHOOK_ALLOW_PRIVATE=1",
                            **_PROBLEM}})
def create_webhook():
    """Register a receiver: `url`, `secret` (for signatures), optional `authorities` and `kinds` filters.

    The receiver must be public: its host is resolved and refused if any address is loopback, private,
    link-local, multicast or reserved (checked again at each delivery). TIMELINE_WEBHOOK_ALLOW_PRIVATE=1 lifts this."""
    svc = services()
    token = require_admin(svc.store)
    try:
        request = webhooks.WebhookRequest(svc.registry, allow_private=_allow_private()).load(json_body())
    except ValidationError as exc:
        raise _invalid(exc, "The webhook is not valid.") from None
    created = webhooks.create(svc.store.db, request, token.name, svc.store.clock())
    return json_response(created, 201, {"Location": url_for("webhooks.get_webhook", webhook_id=created["id"])})


@blp.route("/webhooks")
@blp.doc(**_ADMIN, responses={"401": {"description": "No or bad token", **_PROBLEM}})
def list_webhooks():
    """Every registered webhook (secrets never shown)."""
    svc = services()
    require_admin(svc.store)
    return json_response({"webhooks": webhooks.list_all(svc.store.db)})


@blp.route("/webhooks/<int:webhook_id>")
@blp.doc(**_ADMIN, responses={"401": {"description": "No or bad token", **_PROBLEM},
                              "404": {"description": "No such webhook", **_PROBLEM}})
def get_webhook(webhook_id):
    """One webhook."""
    require_admin(services().store)
    return json_response(_webhook_or_404(webhook_id))


@blp.route("/webhooks/<int:webhook_id>", methods=["PATCH"])
@blp.doc(**_ADMIN, requestBody={"required": True, "content": {"application/json": {"schema": "WebhookPatch"}}},
         responses={"200": {"description": "Changed: the webhook as it now is (the secret never shown)"},
                    "401": {"description": "No or bad token", **_PROBLEM},
                    "404": {"description": "No such webhook", **_PROBLEM},
                    "422": {"description": "Invalid change (each bad field named; a private receiver is refused "
                                           "under `url`); nothing is changed", **_PROBLEM}})
def patch_webhook(webhook_id):
    """Change a webhook: any of `url`, `secret`, `authorities`, `kinds`, `description` (validated as on POST;
    null filters mean all), and `active` to pause (`false`: deliveries accumulate, unsent) or resume (`true`).
    Waiting deliveries go to the new url with the new secret; filters apply to events appended from now on."""
    svc = services()
    require_admin(svc.store)
    _webhook_or_404(webhook_id)
    try:
        change = webhooks.WebhookPatch(svc.registry, allow_private=_allow_private()).load(json_body())
    except ValidationError as exc:
        raise _invalid(exc, "The change is not valid.") from None
    return json_response(webhooks.update(svc.store.db, webhook_id, change))


@blp.route("/webhooks/<int:webhook_id>", methods=["DELETE"])
@blp.doc(**_ADMIN, responses={"204": {"description": "Deleted, with its deliveries"},
                              "401": {"description": "No or bad token", **_PROBLEM},
                              "404": {"description": "No such webhook", **_PROBLEM}})
def delete_webhook(webhook_id):
    """Delete a webhook and its deliveries."""
    svc = services()
    require_admin(svc.store)
    if not webhooks.delete(svc.store.db, webhook_id):
        raise NotFound(f"There is no webhook {webhook_id}; GET /api/webhooks lists them.")
    return Response(status=204)


@blp.route("/webhooks/<int:webhook_id>/deliveries")
@blp.arguments(DeliveriesQuery, location="query", as_kwargs=True)
@blp.doc(**_ADMIN, responses={"401": {"description": "No or bad token", **_PROBLEM},
                              "404": {"description": "No such webhook", **_PROBLEM}})
def list_deliveries(webhook_id, state=None, limit=100):
    """A webhook's deliveries, newest first, each with every attempt (when, status code, error, duration)."""
    svc = services()
    require_admin(svc.store)
    _webhook_or_404(webhook_id)
    return json_response({"webhook_id": webhook_id,
                          "deliveries": deliveries.list_for(svc.store.db, webhook_id, state, limit)})


@blp.route("/webhooks/<int:webhook_id>/deliveries/<delivery_id>")
@blp.doc(**_ADMIN, responses={"401": {"description": "No or bad token", **_PROBLEM},
                              "404": {"description": "No such delivery", **_PROBLEM}})
def get_delivery(webhook_id, delivery_id):
    """One delivery with its body (exactly as signed and sent) and attempts."""
    svc = services()
    require_admin(svc.store)
    found = deliveries.get(svc.store.db, webhook_id, delivery_id)
    if found is None:
        raise NotFound(f"Webhook {webhook_id} has no delivery {delivery_id!r}.")
    return json_response(found)


@blp.route("/webhooks/<int:webhook_id>/deliveries/<delivery_id>/replay", methods=["POST"])
@blp.doc(**_ADMIN, responses={"401": {"description": "No or bad token", **_PROBLEM},
                              "404": {"description": "No such delivery", **_PROBLEM}})
def replay_delivery(webhook_id, delivery_id):
    """Send a dead (or delivered) delivery again, with a fresh round of attempts, at the clock's next run."""
    svc = services()
    require_admin(svc.store)
    found = deliveries.replay(svc.store.db, webhook_id, delivery_id, svc.store.clock())
    if found is None:
        raise NotFound(f"Webhook {webhook_id} has no delivery {delivery_id!r}.")
    return json_response(found, 202)
