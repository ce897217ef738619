"""Malformed and hostile requests against a live server, from a seeded generator: none may get a 5xx.

Paths and query parameters come from the server's own OpenAPI document, so
endpoints added later are fuzzed too. Each case is reproducible from its seed.
"""
from __future__ import annotations

import http.client
import json
import random
import uuid
from urllib.parse import quote as urlquote
from collections import Counter
from dataclasses import dataclass, field

from bench.crash_scenario import append_body, request
from service.app import MAX_BODY_BYTES

HOSTILE_STRINGS = [
    "", " ", "null", "0", "-1", "1e309", "9" * 40, "2026-02-30", "2026-13-01", "0000-00-00", "2026-1-1",
    "../../etc/passwd", "%00", "\x00", "<script>alert(1)</script>", "' OR 1=1 --", "manchester\n",
    "\u202e\u0644\u0627", "\U0001F600" * 50, "a" * 5000, "\ud800", "true", "[]", "{}", "%", "%%zz",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class FuzzReport:
    """Cases run, statuses seen ("closed-early": an oversized body refused before all was sent), and each 5xx."""

    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[dict] = field(default_factory=list)
    connection_errors: list[dict] = field(default_factory=list)  # e.g. the server closing on a body it refused


def quote(text: str) -> str:
    """Percent-encode anything, lone surrogates included (sent as their raw UTF-8-style bytes)."""
    return urlquote(text, safe="", errors="surrogatepass")


def random_json(rng: random.Random, depth: int = 0):
    """Any JSON value: wrong types, extreme numbers, hostile strings, nesting."""
    choice = rng.randrange(8 if depth < 4 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**63, -(2**70), 10**30, rng.randint(-10**6, 10**6)])
    if choice == 3:
        return rng.choice([1e308, -0.0, 0.1, rng.uniform(-1e9, 1e9)])
    if choice == 4:
        return rng.choice(HOSTILE_STRINGS)
    if choice == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["kind", "effective_on", "occurred", "payload", "source", "event_id", "expected_version",
            "date_precision", "schema_version", "judgements", "findings", "start", "end", rng.choice(HOSTILE_STRINGS)]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def mutate(rng: random.Random, value, depth: int = 0):
    """A valid value with one part, somewhere inside, replaced by random JSON."""
    if isinstance(value, dict) and value and (depth == 0 or rng.random() < 0.7):
        key = rng.choice(list(value))
        return dict(value, **{key: mutate(rng, value[key], depth + 1)})
    if isinstance(value, list) and value and rng.random() < 0.7:
        index = rng.randrange(len(value))
        return value[:index] + [mutate(rng, value[index], depth + 1)] + value[index + 1:]
    return random_json(rng)


def fill_path(rng: random.Random, template: str) -> str:
    """A documented path with each {parameter} replaced by a real, random or hostile value."""
    out = template
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        value = rng.choice(["manchester", "salford", "manchester", "salford", "invalid-event", str(uuid.uuid4()),
                            quote(rng.choice(HOSTILE_STRINGS))])
        out = out[:start] + (value or "x") + out[end + 1:]
    return out


def query_string(rng: random.Random, names: list[str]) -> str:
    """Some documented parameters (and sometimes an unknown one) with hostile or plausible values."""
    chosen = rng.sample(names, k=rng.randint(0, len(names))) + (["nonsense"] if rng.random() < 0.2 else [])
    values = HOSTILE_STRINGS + ["2015-01-01", "2026-11-23T10:00:00Z", "100", "1", "open", "overall", "inspection"]
    pairs = [f"{name}={quote(rng.choice(values))}" for name in chosen]
    return ("?" + "&".join(pairs)) if pairs else ""


def build_case(rng: random.Random, spec: dict, token: str) -> tuple[str, str, bytes | None, dict]:
    """One hostile request: (method, path with query, body, headers)."""
    paths = list(spec["paths"].items())
    writes = [(t, i) for t, i in paths if "post" in i]
    # Half the cases at the endpoints that take bodies: that is where validation has most to do.
    template, item = rng.choice(writes if writes and rng.random() < 0.5 else paths)
    methods = [m.upper() for m in item if m.upper() in METHODS]
    method = rng.choice(methods) if rng.random() < 0.85 else rng.choice(METHODS)
    operation = item.get(method.lower(), {})
    names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
    path = fill_path(rng, template) if rng.random() < 0.95 else "/" + quote(rng.choice(HOSTILE_STRINGS))
    headers = {"Authorization": f"Bearer {token}"} if rng.random() < 0.8 else {"Authorization": rng.choice(
        ["Bearer", "Bearer x", "Basic Zm9vOmJhcg==", "Bearer " + "a" * 3000])}
    if rng.random() < 0.3:
        headers["Idempotency-Key"] = rng.choice(["k" * 201, "dup", str(uuid.uuid4())])
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body, content_type = hostile_body(rng)
        headers["Content-Type"] = content_type
    return method, path + query_string(rng, names), body, headers


def hostile_body(rng: random.Random) -> tuple[bytes, str]:
    """A body: mutated valid event, random JSON, broken JSON, deep nesting, huge, or not JSON at all."""
    kind = rng.randrange(7)
    if kind == 0:
        return json.dumps(mutate(rng, json.loads(append_body(f"fuzz-{rng.random()}")))).encode(), "application/json"
    if kind == 1:
        return json.dumps(random_json(rng)).encode(), "application/json"
    if kind == 2:
        text = append_body("fuzz").decode()
        return text[: rng.randrange(len(text))].encode(), "application/json"
    if kind == 3:
        return rng.choice([b"[" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000]), "application/json"
    if kind == 4:
        return b'{"kind": "' + b"x" * rng.choice([10_000, 2_000_000]) + b'"}', "application/json"
    if kind == 5:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(2000))), rng.choice(
            ["application/pdf", "text/plain", "application/octet-stream", "multipart/form-data; boundary=x"])
    return json.dumps(random_json(rng)).encode(), rng.choice(["text/plain", "application/x-www-form-urlencoded"])


def run_fuzz(port: int, token: str, cases: int, seed: int = 0) -> FuzzReport:
    """Send `cases` hostile requests; record every status and each 5xx."""
    spec = json.loads(request(port, "GET", "/api/openapi.json")[1])
    rng, report = random.Random(seed), FuzzReport()
    for _ in range(cases):
        method, path, body, headers = build_case(rng, spec, token)
        report.cases += 1
        try:
            status, answer, _ = request(port, method, path, body, headers, timeout=60)
        except (OSError, http.client.HTTPException) as error:
            if len(body or b"") > MAX_BODY_BYTES:  # refused with 413 and closed before all of it was sent
                report.statuses["closed-early"] += 1
                continue
            report.connection_errors.append({"method": method, "path": path[:200], "body_bytes": len(body or b""),
                                             "error": repr(error)[:200]})
            continue
        report.statuses[status] += 1
        if status >= 500:
            report.server_errors.append({"method": method, "path": path, "status": status,
                                         "body": (body or b"")[:200].decode(errors="replace"),
                                         "answer": answer[:300].decode(errors="replace")})
    return report
