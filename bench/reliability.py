#!/usr/bin/env python3
"""Reliability figures: appends under SIGKILLed gunicorn workers, then hostile requests, on a real file database.

    .venv/bin/python bench/reliability.py [--seconds 60] [--writers 6] [--workers 3] [--fuzz-cases 5000]

Starts gunicorn on a fresh database in a temporary folder, runs concurrent
writers (each retrying its Idempotency-Key until answered) while a killer
SIGKILLs random workers, checks what is stored against what was acknowledged,
then sends the fuzz cases. Prints the table; exits 1 if anything was lost,
duplicated, invented, broken or answered with a 5xx.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crash_scenario import Outcome, Server, run_scenario  # noqa: E402
from bench.fuzz_requests import FuzzReport, run_fuzz  # noqa: E402
from events.sqlite_store import SQLiteStore  # noqa: E402
from service.auth import new_token  # noqa: E402


def table(outcome: Outcome, fuzz: FuzzReport, seconds: float) -> list[tuple[str, object]]:
    """The figures the issue asks for, then the invariants behind them."""
    return [
        ("appends attempted", outcome.attempted),
        ("acknowledged (2xx)", outcome.acknowledged),
        ("stored", outcome.stored),
        ("duplicates", outcome.duplicates),
        ("lost", outcome.lost),
        ("kills survived", outcome.kills),
        ("fuzz cases run", fuzz.cases),
        ("5xx seen", len(outcome.server_errors) + len(fuzz.server_errors)),
        ("fuzz answers", " ".join(f"{status}:{n}" for status, n in sorted(fuzz.statuses.items(), key=str))),
        ("stored but never acknowledged", outcome.unacknowledged_stored),
        ("retries answered from the idempotency record", outcome.replayed),
        ("connection errors retried", outcome.connection_errors),
        ("streams with version gaps", len(outcome.version_gaps)),
        ("hash chains", "intact" if outcome.verification.ok else "BROKEN"),
        ("projections differing from a rebuild", len(outcome.projections_differing)),
        ("seconds under kills", seconds),
    ]


def healthy(outcome: Outcome, fuzz: FuzzReport) -> bool:
    """Every invariant held and no request got a 5xx."""
    return (outcome.lost == outcome.duplicates == outcome.unacknowledged_stored == outcome.event_id_mismatches == 0
            and outcome.stored == outcome.acknowledged == outcome.attempted and not outcome.refused
            and not outcome.server_errors and not fuzz.server_errors and not fuzz.connection_errors
            and not outcome.version_gaps
            and outcome.verification.ok and not outcome.projections_differing)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="how long workers are killed under the writers")
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--kill-gap", type=float, default=1.0, help="longest pause between kills (s)")
    parser.add_argument("--fuzz-cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder) / "reliability.db", workers=args.workers,
                        log_path=str(Path(folder) / "gunicorn.log")).start()
        try:
            outcome = run_scenario(server, args.seconds, args.writers, args.kill_gap, args.seed)
            fuzz = run_fuzz(server.port, new_token(SQLiteStore(server.db_path), "fuzz"), args.fuzz_cases, args.seed)
        finally:
            server.stop()
    rows = table(outcome, fuzz, args.seconds)
    width = max(len(name) for name, _ in rows)
    print(f"| {'figure'.ljust(width)} | value |\n| {'-' * width} | ----- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    for problem in outcome.refused[:5] + outcome.server_errors[:5] + fuzz.server_errors[:5]:
        print("  ", json.dumps(problem)[:400], file=sys.stderr)
    if fuzz.connection_errors:
        print(f"  fuzz connection errors: {len(fuzz.connection_errors)}, e.g. {fuzz.connection_errors[0]}",
              file=sys.stderr)
    if not outcome.verification.ok:
        print("  chain:", outcome.verification.first_broken.describe(), file=sys.stderr)
    return 0 if healthy(outcome, fuzz) else 1


if __name__ == "__main__":
    start = time.monotonic()
    status = main()
    print(f"(finished in {time.monotonic() - start:.0f} s)")
    sys.exit(status)
