"""Fixtures: real SQLite files, migrated; the app over them; a token."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from events.loading import bundled_lines, load_lines
from events.registry import Registry
from events.sqlite_store import SQLiteStore, connect
from migrations.migrations import PROJECTION_DUE, migrations, sync_authorities, upgrade
from service.app import create_app
from service.auth import new_token
from service.lane import Lane

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TODAY = date(2026, 11, 23)


def schema_before(path, migration: str, registry: Registry) -> None:
    """Make a database at `path` as the schema stood before `migration`, with the registry's authorities.

    Today's store keeps a list of streams whose projections are behind (m011): the
    file gets that table too, empty, and `without_due_list` takes it off again
    before the file is upgraded.
    """
    db = connect(path)
    migrations.apply(db, stop_before=migration)
    with db.atomic():
        sync_authorities(db, registry)
        if "projection_due" not in db.table_names():  # before m011
            db.execute(PROJECTION_DUE)
    db.conn.close()


def without_due_list(path) -> None:
    """Drop the due list `schema_before` added (every projection made: it must be empty), leaving the old schema."""
    db = connect(path)
    assert db.execute("SELECT count(*) FROM projection_due").fetchone()[0] == 0
    db.execute("DROP TABLE projection_due")
    db.conn.close()


class StepClock:
    """A clock that moves one second per reading, from a start time: transaction times are predictable."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def jump(self, to: datetime) -> None:
        """Move the clock to a later moment."""
        self.now = to


# Modules whose webhook receiver listens on 127.0.0.1, which the SSRF guard refuses unless allowed.
LOCAL_RECEIVER_MODULES = {"test_webhook_api", "test_webhook_delivery", "test_alerts", "test_clock"}


@pytest.fixture(autouse=True)
def allow_local_receivers(request, monkeypatch):
    """TIMELINE_WEBHOOK_ALLOW_PRIVATE=1 for the webhook tests (their receiver is local); a test that needs the
    guard on removes it (monkeypatch.delenv)."""
    if request.module.__name__.rsplit(".", 1)[-1] in LOCAL_RECEIVER_MODULES:
        monkeypatch.setenv("TIMELINE_WEBHOOK_ALLOW_PRIVATE", "1")


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture
def db_path(tmp_path) -> str:
    path = str(tmp_path / "timeline.db")
    upgrade(path)
    return path


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.fixture
def store(db_path, clock) -> SQLiteStore:
    store = SQLiteStore(db_path, clock=clock)
    yield store
    store.close()


@pytest.fixture
def seeded_store(store, registry) -> SQLiteStore:
    report = load_lines(store, registry, bundled_lines(), recorded_by="seed")
    assert report.ok, report.refused
    return store


@pytest.fixture
def app(seeded_store, db_path):
    app = create_app({"TIMELINE_DATABASE": db_path, "TESTING": True, "TODAY": lambda: TODAY})
    # Share the test's store (and its clock) so transaction times are controlled, projecting as the app's would.
    app.extensions["timeline"].store = seeded_store
    seeded_store.projector_for = app.extensions["timeline"].store_projector
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(seeded_store) -> str:
    return new_token(seeded_store, "tester")


@pytest.fixture
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


def lane_of(app, kind: type) -> Lane:
    """The app's lane of this class, among the WSGI middleware in front of Flask."""
    wsgi = app.wsgi_app
    while not isinstance(wsgi, kind):
        wsgi = wsgi.inner
    return wsgi


def flask_alone(app):
    """The WSGI callable behind every lane: Flask's own."""
    wsgi = app.wsgi_app
    while isinstance(wsgi, Lane):
        wsgi = wsgi.inner
    return wsgi


def monitoring_visit(**overrides) -> dict:
    """The issue's example monitoring-visit append request, with overrides."""
    body = {
        "kind": "monitoring_visit",
        "effective_on": "2026-10-15",
        "occurred": {"start": "2026-09-30", "end": "2026-10-01"},
        "payload": {"ordinal": 1, "areas_covered": ["help and protection"],
                    "findings": [{"text": "Progress in the front door.", "direction": "progress"}],
                    "inspectors": ["A Inspector HMI"]},
        "source": {"title": "Monitoring visit letter", "url": "https://example.org/letter.pdf"},
    }
    body.update(overrides)
    return body
