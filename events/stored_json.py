"""Reading the JSON an event's payload and source are stored as.

orjson reads it in about a third of `json.loads`' time, and reading events is
most of a replay. The two give the same values on everything stored, but for two
things:

- an integer outside 64 bits (below -2**63 or above 2**64 - 1), which orjson turns
  into a float. Validation bounds every integer an event can hold far inside
  that, so only events stored before it did can hold one; migration m013 lists
  them in `wide_integer_events`, and those are read with `json.loads`.
- text orjson refuses and `json.loads` accepts (a lone surrogate escape): `decode`
  falls back to `json.loads`.
"""
from __future__ import annotations

import json

import orjson

# A run of 19 digits anywhere in the text: every integer outside 64 bits has one (for SQL's GLOB, as a filter).
LONG_DIGITS_GLOB = "*" + "[0-9]" * 19 + "*"
_I64_MIN, _U64_MAX = -2**63, 2**64 - 1


def encode(value: object) -> str:
    """JSON as events store their payload and source: sorted keys, no whitespace (the chain hashes the decoded
    value, not this text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def decode(text: str) -> object:
    """A stored payload or source as `json.loads` reads it, read by orjson (not for `wide_integer_events`)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def holds_wide_integer(value: object) -> bool:
    """Whether decoded JSON holds an integer orjson would read as a float."""
    if isinstance(value, dict):
        return any(holds_wide_integer(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_wide_integer(v) for v in value)
    return type(value) is int and not _I64_MIN <= value <= _U64_MAX


def copy(value: object) -> object:
    """A deep copy of decoded JSON: an orjson round trip where it can (a twentieth of `copy.deepcopy`'s time)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError:  # an integer outside 64 bits
        return json.loads(json.dumps(value))
