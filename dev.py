#!/usr/bin/env python3
"""The two commands a new user needs, with nothing but Python installed.

    python3 dev.py serve   # set up, create the database, load the bundled data, serve on 127.0.0.1:8000
    python3 dev.py test    # set up and run the whole test suite

Both make a virtual environment in .venv and install the project into it
(again only when pyproject.toml has changed).
"""
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; the browser tests drive it (never a downloaded browser)
CHROMIUM_EN_GB = "/usr/lib/chromium/locales/en-GB.pak"  # from chromium-l10n: British date controls


def setup() -> None:
    """Create .venv and install the project with its test extras, if not already current."""
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing the project into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def ensure_chromium() -> None:
    """Install Debian's chromium (and its en-GB locale) for the browser tests if missing (needs root: apt-get).

    chromium-l10n brings en-GB.pak: without it the date control shows dates US-style
    (mm/dd/yyyy) in the browser tests and screenshots, whatever locale is asked for.
    """
    if os.environ.get("TIMELINE_SKIP_BROWSER"):
        return
    have_browser, have_locale = Path(CHROMIUM).exists(), Path(CHROMIUM_EN_GB).exists()
    if have_browser and have_locale:
        return
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if have_browser and not root:
        print(f"note: {CHROMIUM_EN_GB} is missing (apt-get install chromium-l10n): date controls will show US-style")
        return
    if not root:
        sys.exit(f"The browser tests need Debian's chromium at {CHROMIUM}: install it with "
                 "`sudo apt-get install chromium chromium-l10n`, or run as root and dev.py will, "
                 "or set TIMELINE_SKIP_BROWSER=1 to run without the browser tests.")
    print("installing chromium for the browser tests: apt-get update && "
          "apt-get install -y --no-install-recommends chromium chromium-l10n", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium", "chromium-l10n"],
                   check=True, env=env)


def main(argv: list[str]) -> int:
    """Dispatch `serve` or `test`; extra arguments go to `timeline serve` or pytest."""
    if not argv or argv[0] not in ("serve", "test"):
        print(__doc__)
        return 2
    setup()
    if argv[0] == "test":
        ensure_chromium()
    os.chdir(ROOT)
    if argv[0] == "serve":
        os.execv(str(BIN / "timeline"), [str(BIN / "timeline"), "serve", *argv[1:]])
    return subprocess.run([str(BIN / "python"), "-m", "pytest", *argv[1:]]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
