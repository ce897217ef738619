"""What every `timeline` command imports before it runs: not the importer, not the scheduler.

The CLI makes the app for every command, so whatever the app imports at start-up
each command pays for. The document importer (a fifth of the start-up) is
imported by `timeline import` and the first draft upload; APScheduler (a sixth)
by `timeline clock`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("events.importer", "apscheduler", "pypdfium2")


def _loaded_after(code: str, tmp_path: Path) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after running `code`."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {HEAVY!r}))))")
    env = {"TIMELINE_DATABASE": str(tmp_path / "t.db"), "PATH": ""}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_the_cli_and_the_app_start_without_the_importer_or_the_scheduler(tmp_path):
    assert _loaded_after("import service.cli\nfrom service.app import create_app\ncreate_app()", tmp_path) == []


def test_a_draft_upload_imports_the_importer_when_it_is_made(tmp_path):
    loaded = _loaded_after(
        f"from migrations.migrations import upgrade\nupgrade({str(tmp_path / 't.db')!r})\n"
        "from service.app import create_app\n"
        "client = create_app().test_client()\n"
        "answer = client.post('/api/drafts', data=b'not a report', content_type='text/plain')\n"
        "assert answer.status_code == 422, (answer.status_code, answer.get_data(as_text=True))",
        tmp_path)
    assert "events.importer.drafting" in loaded
