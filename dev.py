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


def main(argv: list[str]) -> int:
    """Dispatch `serve` or `test`; extra arguments go to `timeline serve` or pytest."""
    if not argv or argv[0] not in ("serve", "test"):
        print(__doc__)
        return 2
    setup()
    os.chdir(ROOT)
    if argv[0] == "serve":
        os.execv(str(BIN / "timeline"), [str(BIN / "timeline"), "serve", *argv[1:]])
    return subprocess.run([str(BIN / "python"), "-m", "pytest", *argv[1:]]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
