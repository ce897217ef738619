"""gunicorn settings for the web process. Migrations run once, in the master, before workers fork."""
import os

bind = os.environ.get("TIMELINE_BIND") or (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("TIMELINE_THREADS", "4"))
accesslog = "-"
# gunicorn's default access line, made from the nine values it prints rather than every header and environ
# variable (14% of a worker's CPU on a status read): see service/access_log.py.
logger_class = "service.access_log.AccessLogger"
timeout = 30
# One shared control socket per user would make two services on one machine collide; not needed here.
control_socket_disable = True


def on_starting(server):
    """Bring the schema up to date before any worker serves a request."""
    from migrations.migrations import upgrade
    from service.app import create_app, database_path

    path = database_path(create_app())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    applied = upgrade(path)
    server.log.info("database %s: %s", path, ", ".join(applied) if applied else "up to date")


def post_worker_init(worker):
    """Tune each worker before it serves: the GIL switch interval, the URL validator, log records.

    Appends are committed by one writer thread per worker (events.group_commit) while it
    holds the write lock shared by every worker; each SQLite call releases the GIL, and
    with the default 5 ms interval the writer could wait that long to get it back from a
    request thread after every call, holding up every worker's writes meanwhile.

    And the URL validator's regular expression (compiled on first use, about a second
    of CPU) is compiled now, rather than inside the first append a worker serves.

    And log records no longer look up what no format here prints (the calling frame,
    the thread's name, the multiprocessing name): the logging HOWTO's "Optimization"
    settings. Every request writes an access record; finding its caller walked the
    stack, 2% of a status read. The process id stays: gunicorn's error lines print it.

    And everything the worker has made by now (the app, its modules, the registry) is
    moved out of the garbage collector's reach (`gc.freeze`): those objects live as long
    as the worker, but a full collection walked all of them, stopping every thread of the
    worker for 35-60 ms on the 1M-event benchmark, about once every 10,000 requests.
    Frozen, a full collection walks only what requests have left since. Young
    collections, which find each request's garbage, are unchanged. The garbage start-up
    left is collected first: frozen, it would never be freed (9 MB a worker at 1M).
    """
    import gc
    import logging
    import sys

    from marshmallow.validate import URL

    sys.setswitchinterval(0.0005)
    URL(relative=False, absolute=True, require_tld=True)("https://example.org/")
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    gc.collect()  # last: after everything above has made what it makes
    gc.freeze()
