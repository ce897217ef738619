"""Security headers on JSON, problem+json and HTML responses; error bodies never show a traceback or SQL."""
from __future__ import annotations

import re
import shutil
import subprocess
import threading

import pytest

from werkzeug.serving import make_server

from service.app import create_app
from service.headers import STRICT_CSP, inline_script_hashes

COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
          "Cross-Origin-Opener-Policy": "same-origin"}
LEAKS = re.compile(r"Traceback|File \"|sqlite|SELECT|INSERT|no such table|DatabaseError|\.py\b", re.I)


def assert_security_headers(response, csp: str = STRICT_CSP) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Content-Security-Policy"] == csp
    assert "Strict-Transport-Security" not in response.headers  # not configured as behind HTTPS


@pytest.mark.parametrize("path, mimetype", [
    ("/api/authorities/manchester/status?as_of=2015-01-01", "application/json"),
    ("/api/openapi.json", "application/json"),
    ("/api/authorities/nowhere", "application/problem+json"),
    ("/api/authorities/manchester/status?as_of=yesterday", "application/problem+json"),
])
def test_json_and_problem_responses_carry_the_strict_headers(client, path, mimetype):
    response = client.get(path)
    assert response.mimetype == mimetype
    assert_security_headers(response)


def test_docs_page_allows_exactly_its_own_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    hashes = inline_script_hashes(response.get_data())
    assert len(hashes) == 1 and f"script-src 'self' {hashes[0]};" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    for name, value in COMMON.items():
        assert response.headers[name] == value
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert_security_headers(asset)


def test_hsts_only_when_configured(seeded_store, db_path):
    app = create_app({"TIMELINE_DATABASE": db_path, "TESTING": True, "TIMELINE_HSTS_SECONDS": "31536000"})
    response = app.test_client().get("/api/authorities/manchester")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("contents", [b"this is not a database at all" * 200, b""])
def test_internal_errors_are_generic_problems_without_traceback_or_sql(tmp_path, caplog, contents):
    broken = tmp_path / "broken.db"
    broken.write_bytes(contents)  # corrupt, or empty (so no tables: "no such table: …" must not leak)
    app = create_app({"TIMELINE_DATABASE": str(broken)})
    with caplog.at_level("ERROR"):
        response = app.test_client().get("/api/authorities/manchester/timeline")
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    body = response.get_data(as_text=True)
    assert response.get_json()["detail"] == "The server could not answer this request; the error has been logged."
    assert not LEAKS.search(body), body
    assert_security_headers(response)
    assert "Traceback" in caplog.text or caplog.records[0].exc_info  # logged in full, for the operator


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium")
def test_swagger_ui_renders_under_its_policy_in_a_real_browser(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000",
                              "--dump-dom", f"http://127.0.0.1:{server.port}/api/docs"],
                             capture_output=True, text=True, timeout=60).stdout
    finally:
        server.shutdown()
    # The operations are drawn by the inline script: blocked by the policy, the page stays empty.
    assert 'data-path="/api/authorities/{slug}/status"' in dom
