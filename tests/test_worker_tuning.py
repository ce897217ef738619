"""gunicorn.conf.py's post_worker_init tunes each worker as its docstring says (run in a process of its own: the
settings are process-wide)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, logging, runpy, sys, weakref
conf = runpy.run_path(sys.argv[1])
before = gc.get_freeze_count()
made_before = [object() for _ in range(3)], {"kept": []}  # what a worker holds once its app is loaded
class Node:
    pass
garbage = Node()
garbage.self = garbage  # a cycle start-up left behind: only the collector frees it
left = weakref.ref(garbage)
gc.collect()  # while it is still in use: now in the oldest generation, which young collections leave alone
del garbage
conf["post_worker_init"](None)
made_after = {"new": []}  # what a request leaves: the collector still sees it
print(json.dumps({
    "frozen_before": before,
    "frozen_after": gc.get_freeze_count(),
    "made_before_frozen": gc.is_tracked(made_before[1]) and not any(o is made_before[1] for o in gc.get_objects()),
    "after_init_collectable": any(o is made_after for o in gc.get_objects()),
    "garbage_freed": left() is None,
    "switch_interval": sys.getswitchinterval(),
    "srcfile": logging._srcfile,
}))
"""


def test_worker_freezes_what_it_made_at_start_frees_its_garbage_and_keeps_collecting_the_rest():
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "gunicorn.conf.py")], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    seen = json.loads(out.stdout)
    assert seen["frozen_before"] == 0
    assert seen["frozen_after"] > 1000  # the interpreter's and the modules' (in a worker, the app's too)
    assert seen["made_before_frozen"] is True  # still tracked, but in no generation the collector walks
    assert seen["after_init_collectable"] is True
    assert seen["garbage_freed"] is True  # collected before the freeze, not kept for the worker's life
    assert seen["switch_interval"] == 0.0005
    assert seen["srcfile"] is None
