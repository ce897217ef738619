"""Query strings of the hot read endpoints (status, timeline, concerns), read by hand.

webargs and marshmallow cost more per request than the stored status lookup
itself (issue 7). The schemas stay the contract: they are documented in the
OpenAPI (`Blueprint.query_doc`), and anything here that is not in its plain
form (an unknown or repeated name, a value written any other way) is handed
to the same schema through the same parser, so every answer, error or not,
is the schema's. Only forms the schema reads to the same value are read here.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask import request
from marshmallow import Schema, missing

from service.api.blueprint import Blueprint

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_LIMIT = re.compile(r"[1-9]\d{0,3}\Z")


class _Unplain(Exception):
    """This value is not in a form read here: let the schema read it."""


def day(text: str) -> date:
    """YYYY-MM-DD as a date (what marshmallow's Date makes of it)."""
    if not _DAY.match(text):
        raise _Unplain
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Unplain from None


def one_of(*allowed: str) -> Callable[[str], str]:
    """A reader accepting only the listed strings."""
    def read(text: str) -> str:
        if text not in allowed:
            raise _Unplain
        return text
    return read


def limit(text: str) -> int:
    """A page size 1..1000 written plainly."""
    if not _LIMIT.match(text) or int(text) > 1000:
        raise _Unplain
    return int(text)


def boolean(text: str) -> bool:
    """`true` or `false`."""
    if text not in ("true", "false"):
        raise _Unplain
    return text == "true"


def text(value: str) -> str:
    """Any string."""
    return value


FORMAT = one_of("json", "csv", "ndjson")


class QueryReader:
    """Reads one schema's query: plain forms by hand, everything else through the schema."""

    def __init__(self, schema: Schema, readers: dict[str, tuple[str, Callable[[str], object]]]):
        """`readers`: query name -> (keyword the view takes, reader of the plain form)."""
        self.schema = schema
        self.readers = readers
        self.defaults = {field.attribute or name: field.load_default for name, field in schema.fields.items()
                         if field.load_default is not missing}

    def __call__(self) -> dict:
        """The view's keyword arguments from this request's query string (400 problem if it is not valid)."""
        out = dict(self.defaults)
        try:
            for name, values in request.args.lists():
                keyword, read = self.readers[name]
                if len(values) != 1:
                    raise _Unplain
                out[keyword] = read(values[0])
        except (KeyError, _Unplain):
            return Blueprint.ARGUMENTS_PARSER.parse(self.schema, location="query")
        return out
