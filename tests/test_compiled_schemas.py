"""The compiled loaders give marshmallow's answers: the same output where they accept, never an acceptance it refuses.

Checked on every bundled event, a generated national history, and thousands of
mutations of them (a field dropped, retyped, emptied, lengthened, an unknown
field added, at any depth). Refusals always come from marshmallow itself (the
compiled loader falls back), so their messages cannot differ.
"""
from __future__ import annotations

import copy
import json
import random
import uuid

import pytest
from marshmallow import ValidationError

from bench import generate
from events import compiled_schemas
from events.errors import InvalidEvent
from events.loading import bundled_lines
from events.schemas import CURRENT_VERSION, PAYLOAD_SCHEMAS, _jsonable, _new_event, _payload_schema, validate_new_event

ODD_VALUES = (None, "", " ", "x" * 201, "x" * 20001, 0, -1, 1, 4, 5, 101, True, False, 3.0, "3", [], {}, [1], ["a"],
              {"a": 1}, "2014-13-01", "2014-02-30", "2014", "2014-06", "2014-06-01", "not a date",
              "37950F08-06BE-42C4-A1F0-DFA8AA53A19E", "37950f0806be42c4a1f0dfa8aa53a19e",
              "{37950f08-06be-42c4-a1f0-dfa8aa53a19e}", "37950f08-06be-42c4-a1f0-dfa8aa53a19e",
              "https://example.org/x", "ftp://example.org/x", "http://localhost", "standard", "Good", "Inadequate",
              "new_concern", "resolved", "issued", "lifted", "three_months", "day", "month", "year", "inspection")


@pytest.fixture(scope="module")
def bodies(tmp_path_factory) -> list[dict]:
    """Every bundled event and a generated history, as append requests."""
    out = tmp_path_factory.mktemp("compiled") / "history.ndjson"
    generate.write(out, 12, 80, seed=3)
    lines = list(bundled_lines()) + out.read_text().splitlines()
    result = []
    for line in lines:
        if line.strip():
            body = json.loads(line)
            body.pop("authority", None)
            result.append(body)
    return result


def _marshmallow(schema, data):
    try:
        return "ok", _jsonable(schema.load(data))
    except ValidationError as exc:
        return "refused", exc.messages


def _compiled(schema, data):
    loader = compiled_schemas.compiled(schema)
    assert loader is not None, f"{type(schema).__name__} no longer compiles"
    try:
        return "ok", _jsonable(loader(data))
    except compiled_schemas.Fallback:
        return "fallback", None


def _ordered(value):
    """The value with every dict's key order made visible (marshmallow's output order is the schema's)."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def assert_agree(schema, data) -> str:
    """The compiled loader either falls back or gives exactly marshmallow's output; return what happened."""
    want, got = _marshmallow(schema, data), _compiled(schema, data)
    if got[0] == "ok":
        assert want[0] == "ok", f"compiled accepted what marshmallow refuses: {want[1]} for {data!r}"
        assert _ordered(got[1]) == _ordered(want[1])
    return got[0]


def _schemas_for(body: dict):
    """The envelope schema and the body's payload schema (with its payload), if the kind is known."""
    yield _new_event, body
    kind = body.get("kind")
    version = body.get("schema_version", CURRENT_VERSION.get(kind) if isinstance(kind, str) else None)
    if any((kind, version) == key for key in PAYLOAD_SCHEMAS):  # kind may be any JSON value
        yield _payload_schema(kind, version), body.get("payload")


def test_every_known_schema_compiles():
    assert compiled_schemas.compiled(_new_event) is not None
    for kind, version in PAYLOAD_SCHEMAS:
        assert compiled_schemas.compiled(_payload_schema(kind, version)) is not None, (kind, version)


def test_real_and_generated_events_take_the_fast_path_with_marshmallows_output(bodies):
    outcomes = [assert_agree(schema, data) for body in bodies for schema, data in _schemas_for(body)]
    # The fast path must actually be taken: these are the bodies a bulk load sends.
    assert outcomes.count("ok") == len(outcomes)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, path + (index,))


def _near_misses(value) -> list:
    """Values a client might send instead of this one: same meaning, other type, or just out of bounds."""
    if isinstance(value, bool):
        return [not value, int(value), str(value).lower(), None]
    if isinstance(value, int):
        return [True, False, float(value), str(value), value + 1, value - 1, value + 1000, 0, -1, None]
    if isinstance(value, str):
        return ["", " ", value * 300, value.upper(), value + "x", value[:-1], None, 1, [value], value.encode()]
    if isinstance(value, list):
        return [[], value * 600, value[:1] * 2, None, {}, tuple(value), value + [None], value + [{}]]
    if isinstance(value, dict):
        return [{}, None, [], {**value, "unknown": 1}]
    return list(ODD_VALUES)


def _mutate(body: dict, rng: random.Random) -> dict:
    body = copy.deepcopy(body)
    for _ in range(rng.choice([1, 1, 1, 2])):
        path = rng.choice([p for p in _paths(body) if p])
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = rng.randrange(6)
        if action == 0 and isinstance(parent, dict):
            del parent[last]
        elif action == 1 and isinstance(parent, dict):
            parent[rng.choice(["unknown", "extra", "Kind", "grade"])] = rng.choice(ODD_VALUES)
        elif action == 2:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            parent[last] = copy.deepcopy(rng.choice(_near_misses(parent[last])))
    return body


def test_mutated_events_never_pass_where_marshmallow_refuses(bodies):
    rng = random.Random(20261129)
    seen = {"ok": 0, "fallback": 0}
    for _ in range(8000):
        body = _mutate(rng.choice(bodies), rng)
        for schema, data in _schemas_for(body):
            seen[assert_agree(schema, data)] += 1
    assert seen["ok"] > 1000 and seen["fallback"] > 1000  # both sides were exercised


def test_validate_new_event_answers_as_before_on_mutations(bodies, monkeypatch):
    """The whole validation, fast path on and off: same event, or the same refusal with the same errors."""
    rng = random.Random(7)
    samples = [_mutate(rng.choice(bodies), rng) for _ in range(1500)] + bodies[:300]

    def outcome(body):
        try:
            event = validate_new_event(copy.deepcopy(body))
        except InvalidEvent as exc:
            return "refused", exc.errors
        if "event_id" not in body:
            event["event_id"] = "made"
        return "ok", _ordered(event)

    fast = [outcome(b) for b in samples]
    monkeypatch.setattr(compiled_schemas, "compiled", lambda schema: None)
    slow = [outcome(b) for b in samples]
    assert fast == slow


def test_a_noncanonical_uuid_is_normalised_as_marshmallow_does(bodies):
    body = copy.deepcopy(next(b for b in bodies if b["kind"] == "retraction"))
    upper = body["payload"]["target_event_id"].upper()
    body["payload"]["target_event_id"] = upper
    event = validate_new_event(body)
    assert event["payload"]["target_event_id"] == str(uuid.UUID(upper))
