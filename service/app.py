"""The Flask application factory. No connection, migration or scheduler starts here."""
from __future__ import annotations

import http
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Api

from events.registry import Registry
from events.schemas import NewEvent
from events.projections.incremental import StreamProjector
from events.sqlite_store import SQLiteStore
from events.webhooks import WebhookPatch, WebhookRequest
from service import headers, problems, ratelimit
from service.api import authorities, drafts, events, feeds, operations, schemas, webhooks
from service.api import verify as verify_api
from service.responses import TimelineFlask
from service.append_lane import AppendLane
from service.status_lane import StatusLane
from service.web import pages

MAX_BODY_BYTES = 1024 * 1024
PROBLEM_JSON = "application/problem+json"


class TimelineApi(Api):
    """flask-smorest's Api, documenting errors as they are sent: problem+json."""

    ERROR_SCHEMA = schemas.Problem

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": "Problem"}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR", {"description": "Error", "content": {PROBLEM_JSON: {"schema": "Problem"}}}, lazy=True)


@dataclass
class Services:
    """What views need: the store, the registry and the service's idea of today."""

    store: SQLiteStore
    registry: Registry
    today: Callable[[], date] = date.today

    def store_projector(self, authority: str) -> StreamProjector:
        """How the store makes a stream's projection: as of the service's today, read when it is made."""
        return StreamProjector(authority, self.today())


def database_path(app: Flask) -> str:
    """TIMELINE_DATABASE from the config or environment, else instance/timeline.db."""
    return app.config.get("TIMELINE_DATABASE") or os.environ.get("TIMELINE_DATABASE") or str(
        Path(app.instance_path) / "timeline.db")


def registry_path(app: Flask) -> str | None:
    """TIMELINE_REGISTRY from the config or environment (a registry CSV), else None: the packaged registry."""
    return app.config.get("TIMELINE_REGISTRY") or os.environ.get("TIMELINE_REGISTRY") or None


def create_app(config: dict | None = None) -> Flask:
    """Build the app; the database must already be migrated (`timeline db upgrade`)."""
    app = TimelineFlask(__name__, instance_path=os.environ.get("TIMELINE_INSTANCE") or None)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        API_TITLE="Children's Services Timeline",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    app.json.sort_keys = False
    store = SQLiteStore(database_path(app), group_commit=True)
    services = Services(store, Registry.load(registry_path(app)), app.config.get("TODAY") or date.today)
    store.projector_for = services.store_projector
    app.extensions["timeline"] = services
    api = TimelineApi(app, spec_kwargs={"info": {"description": "Every inspection, visit, review, intervention and "
                                                      "committee response about English councils' children's services."}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.schema("AppendRequest", schema=NewEvent)
    api.spec.components.schema("Event", schema=schemas.Event)
    api.register_blueprint(authorities.blp)
    api.register_blueprint(events.blp)
    api.register_blueprint(drafts.blp)
    api.register_blueprint(feeds.blp)
    api.spec.components.schema("WebhookRequest", schema=WebhookRequest)
    api.spec.components.schema("WebhookPatch", schema=WebhookPatch)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(operations.blp)
    api.register_blueprint(verify_api.blp)
    app.register_blueprint(pages.bp)
    problems.register(app)
    headers.register(app)
    ratelimit.register(app)
    _docs_assets(app)
    app.wsgi_app = AppendLane(app, StatusLane(app, app.wsgi_app))
    return app


def _docs_assets(app: Flask) -> None:
    """Serve Swagger UI's files from the installed package, so /api/docs works offline."""
    folder = swagger_ui_bundle.swagger_ui_path

    @app.get("/api/docs/assets/<path:filename>")
    def docs_assets(filename):
        return send_from_directory(folder, filename)
