#!/usr/bin/env python3
"""Take the README's screenshots of the three pages, from a real gunicorn over the bundled data.

    .venv/bin/python docs/screenshots.py            # writes docs/screenshots/{home,authority,event}.png

Needs Debian's chromium at /usr/bin/chromium and chromium-l10n for en-GB date controls
(`python3 dev.py test` installs both)
and the test extra (playwright). The database is a temporary file: seeded with
the bundled data and one token; nothing outside docs/screenshots/ is written.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIF_2014 = "e1f51ae0-2841-5c6e-8b00-7e7ba7087eba"


def free_port() -> int:
    """A TCP port nothing is listening on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(folder: str):
    """gunicorn serving a freshly seeded database in `folder`; yields (base URL, environment)."""
    env = dict(os.environ, TIMELINE_DATABASE=str(Path(folder) / "timeline.db"), WEB_CONCURRENCY="1")
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(BIN / "timeline"), *command], env=env, check=True, capture_output=True, cwd=ROOT)
    port = free_port()
    process = subprocess.Popen([str(BIN / "python"), "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                                f"127.0.0.1:{port}", "wsgi:app"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/static/site.css", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start")
                time.sleep(0.2)
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> int:
    """Write the three screenshots."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, served(folder) as (base, _), sync_playwright() as pw:
        # British dates in the date controls too: LANGUAGE sets Chromium's own locale (en-GB.pak, Debian's
        # chromium-l10n), which <input type=date> follows; locale= sets what pages see (navigator.language).
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--lang=en-GB"],
                                     env={**os.environ, "LANGUAGE": "en_GB"})
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        for name, path, until in (("home", "/?region=North+West&sort=grade_overall", "#authorities tbody tr:nth-child(6)"),
                                  ("authority", "/authorities/manchester?as_of=2018-01-01", "section:has(#axis-heading)"),
                                  ("event", f"/events/{SIF_2014}", "section:has(#source-heading)")):
            page.goto(base + path)
            box = page.locator(until).bounding_box()  # down to the end of this element, not the whole page
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": box["y"] + box["height"] + 16})
            print(OUT / f"{name}.png")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
