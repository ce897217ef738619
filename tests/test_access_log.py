"""The access logger writes gunicorn's own default line, from only the atoms that line reads."""
from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger, SafeAtoms

from service.access_log import AccessLogger


def _logger(cls, access_log_format: str | None = None):
    cfg = Config()
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    logger = cls(cfg)
    logger.now = lambda: "[02/Dec/2026:09:00:00 +0000]"  # the two lines are made a moment apart
    return logger


def _request(auth: str | None, referer: str | None, agent: str | None, sent: int | None, status="201 CREATED"):
    headers = [("Host", "127.0.0.1"), ("Authorization", auth)] if auth else [("Host", "127.0.0.1")]
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "RAW_URI": '/api/x?q="a"',
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/api/x", "QUERY_STRING": 'q="a"'}
    environ.update({k: v for k, v in (("HTTP_AUTHORIZATION", auth), ("HTTP_REFERER", referer),
                                       ("HTTP_USER_AGENT", agent)) if v is not None})
    resp = SimpleNamespace(status=status, sent=sent, headers=[("Content-Type", "application/json")])
    return resp, SimpleNamespace(headers=headers), environ, datetime.timedelta(seconds=1, microseconds=2345)


CASES = [
    (None, None, None, None, "201 CREATED"),
    ("Basic dXNlcjpwYXNz", 'https://e.org/"q"', "curl/8.5", 512, "201 CREATED"),
    ("Bearer secret", None, 'agent "quoted"', 0, 404),
]


@pytest.mark.parametrize("case", CASES)
def test_default_line_is_gunicorns_word_for_word(case):
    args = _request(*case)
    ours, theirs = _logger(AccessLogger), _logger(Logger)
    fmt = ours.cfg.access_log_format
    line = fmt % SafeAtoms(ours.atoms(*args))
    assert line == fmt % SafeAtoms(theirs.atoms(*args))
    assert '"POST /api/x?q=\\"a\\" HTTP/1.1"' in line


def test_any_other_format_gets_every_atom():
    args = _request("Bearer secret", None, "curl/8.5", 10)
    fmt = '%(h)s %({content-type}o)s %(D)s %(p)s'
    ours, theirs = _logger(AccessLogger, fmt), _logger(Logger, fmt)
    assert fmt % SafeAtoms(ours.atoms(*args)) == fmt % SafeAtoms(theirs.atoms(*args))
    assert "application/json 1002345" in fmt % SafeAtoms(ours.atoms(*args))
