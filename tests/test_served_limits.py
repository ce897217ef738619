"""Under a real gunicorn with two worker processes: the write limit holds across workers, and no log shows a token."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error

from conftest import monitoring_visit
from test_run_command import TIMELINE, fetch, free_port


def test_write_limit_is_shared_by_workers_and_logs_never_show_the_token(tmp_path):
    env = dict(os.environ, TIMELINE_DATABASE=str(tmp_path / "served.db"), TIMELINE_RATE_LIMIT_WRITES="4/day")
    subprocess.run([TIMELINE, "db", "upgrade"], env=env, check=True, capture_output=True)
    token = subprocess.run([TIMELINE, "tokens", "create", "writer"], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    port = free_port()
    process = subprocess.Popen([TIMELINE, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(f"{base}/api/problems")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and process.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        headers = {"Authorization": f"Bearer {token}"}
        codes = [fetch(f"{base}/api/authorities/manchester/events",
                       monitoring_visit(effective_on=f"2026-10-{15 + n}"), headers)[0] for n in range(8)]
        bad_token = fetch(f"{base}/api/authorities/manchester/events", monitoring_visit(),
                          {"Authorization": f"Bearer {token}x"})[0]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert codes == [201] * 4 + [429] * 4, codes
    assert bad_token == 401
    assert output.count("Booting worker") == 2
    # The access log was written, in gunicorn's default format (service.access_log) …
    assert '"POST /api/authorities/manchester/events HTTP/1.1" 201 ' in output
    assert token not in output and token[4:] not in output and "Bearer" not in output  # … without the token
