"""Token scopes: append and admin, each granting only what it names; 401 for unknown or revoked tokens."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from conftest import monitoring_visit
from events.sqlite_store import SQLiteStore
from migrations.migrations import migrations, upgrade
from service.auth import hash_token, new_token, require_admin
from service.api.blueprint import services
from service.cli import cli

EVENTS = "/api/authorities/manchester/events"


@pytest.fixture
def admin_app(app):
    """The app with one route guarded by require_admin, as the webhook endpoints will be."""
    @app.get("/api/test-admin")
    def admin_only():
        return {"token": require_admin(services().store).name}
    return app


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


def test_default_token_may_append_but_not_administer(admin_app, seeded_store):
    client = admin_app.test_client()
    value = new_token(seeded_store, "writer")
    assert client.post(EVENTS, json=monitoring_visit(), headers=bearer(value)).status_code == 201
    refused = client.get("/api/test-admin", headers=bearer(value))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "no 'admin' scope" in refused.get_json()["detail"]


def test_admin_token_administers_but_may_not_append(admin_app, seeded_store):
    client = admin_app.test_client()
    value = new_token(seeded_store, "operator", scopes=("admin",))
    assert client.get("/api/test-admin", headers=bearer(value)).get_json() == {"token": "operator"}
    refused = client.post(EVENTS, json=monitoring_visit(), headers=bearer(value))
    assert refused.status_code == 403 and "no 'append' scope" in refused.get_json()["detail"]
    assert seeded_store.stream_version("manchester") == 17


def test_a_token_given_both_scopes_does_both(admin_app, seeded_store):
    client = admin_app.test_client()
    value = new_token(seeded_store, "both", scopes=("append", "admin"))
    assert client.get("/api/test-admin", headers=bearer(value)).status_code == 200
    assert client.post(EVENTS, json=monitoring_visit(), headers=bearer(value)).status_code == 201


@pytest.mark.parametrize("headers", [{}, bearer("cst_unknown"), {"Authorization": "Basic abc"}])
def test_admin_route_without_a_live_token_is_401(admin_app, headers):
    response = admin_app.test_client().get("/api/test-admin", headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_admin_token_is_401(admin_app, seeded_store):
    value = new_token(seeded_store, "gone", scopes=("admin",))
    seeded_store.revoke_token("gone")
    assert admin_app.test_client().get("/api/test-admin", headers=bearer(value)).status_code == 401


def test_unknown_scope_is_refused(seeded_store):
    with pytest.raises(ValueError):
        new_token(seeded_store, "odd", scopes=("superuser",))
    with pytest.raises(ValueError):
        new_token(seeded_store, "none", scopes=())


def test_only_the_hash_is_stored(seeded_store, db_path):
    value = new_token(seeded_store, "hashed", scopes=("admin",))
    rows = sqlite3.connect(db_path).execute("SELECT token_hash, scope FROM tokens WHERE name = 'hashed'").fetchall()
    assert rows == [(hash_token(value), "admin")]
    assert value not in Path(db_path).read_bytes().decode("latin-1")


def test_migration_gives_existing_tokens_the_append_scope(tmp_path):
    path = str(tmp_path / "old.db")
    db = Database(path)
    migrations.apply(db, stop_before="m006_token_scopes")
    db.execute("INSERT INTO tokens (name, token_hash, created_at) VALUES ('old', ?, '2025-01-01T00:00:00Z')",
               (hash_token("cst_old"),))
    db.conn.commit()
    db.conn.close()
    assert "m006_token_scopes" in upgrade(path)
    token = SQLiteStore(path).find_token(hash_token("cst_old"))
    assert token.scopes == ("append",) and token.has_scope("append") and not token.has_scope("admin")


def test_cli_creates_tokens_with_scopes_and_lists_them(tmp_path):
    env = {"TIMELINE_DATABASE": str(tmp_path / "cli.db")}
    run = lambda *args: CliRunner().invoke(cli, list(args), env=env)  # noqa: E731
    run("db", "upgrade")
    assert run("tokens", "create", "ops", "--scope", "admin").output.startswith("cst_")
    assert run("tokens", "create", "writer").exit_code == 0
    assert run("tokens", "create", "both", "--scope", "append", "--scope", "admin").exit_code == 0
    bad = run("tokens", "create", "odd", "--scope", "root")
    assert bad.exit_code != 0 and "root" in bad.output
    listed = {line.split("\t")[0]: line for line in run("tokens", "list").output.splitlines()}
    assert "scope admin\t" in listed["ops"] and "scope append\t" in listed["writer"]
    assert "scope append admin\t" in listed["both"]
    assert set(listed) == {"ops", "writer", "both"}


def test_no_log_record_carries_the_token(app, seeded_store, caplog):
    value = new_token(seeded_store, "quiet")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    with caplog.at_level("DEBUG"):
        client.post(EVENTS, json=monitoring_visit(), headers=bearer(value))
        client.post(EVENTS, json={"kind": "nonsense"}, headers=bearer(value))
        client.post(EVENTS, json=monitoring_visit(), headers=bearer(value + "x"))
        seeded_store.close()
        seeded_store.path = "/nonexistent/dir/timeline.db"  # the next request fails inside: logged in full
        assert client.post(EVENTS, json=monitoring_visit(), headers=bearer(value)).status_code == 500
    assert "unhandled error" in caplog.text
    assert value not in caplog.text and value[4:20] not in caplog.text and "Bearer" not in caplog.text
