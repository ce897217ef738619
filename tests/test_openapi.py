"""The OpenAPI document and the interactive docs, which must work offline."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate

DOCUMENTED = {
    "/api/authorities": {"get"},
    "/api/authorities/{slug}": {"get"},
    "/api/authorities/{slug}/status": {"get"},
    "/api/authorities/{slug}/timeline": {"get"},
    "/api/authorities/{slug}/concerns": {"get"},
    "/api/authorities/{slug}/judgements": {"get"},
    "/api/authorities/{slug}/events": {"post"},
    "/api/events/{event_id}": {"get"},
    "/api/events": {"get"},
    "/api/status": {"get"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ASSETS = "/api/docs/assets/"


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def resolve(spec: dict, node: dict) -> dict:
    """Follow local $refs ("#/components/...") to the object they name."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def parameters(spec: dict, path: str, method: str) -> dict[tuple[str, str], dict]:
    """An operation's parameters (path-level and operation-level) by (in, name)."""
    item = spec["paths"][path]
    found = [resolve(spec, p) for p in item.get("parameters", []) + item[method].get("parameters", [])]
    return {(p["in"], p["name"]): p for p in found}


# -- the document ---------------------------------------------------------

def test_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises on an invalid document
    assert spec["info"]["title"] == "Children's Services Timeline"


def test_validator_would_notice_a_broken_document(spec):
    """The validation above means something: the same document with a dangling $ref is refused."""
    broken = dict(spec, paths=dict(spec["paths"]))
    broken["paths"]["/api/broken"] = {"get": {"responses": {"200": {"$ref": "#/components/responses/NOPE"}}}}
    with pytest.raises(Exception):
        validate(broken)


def test_every_path_of_the_api_is_documented(spec):
    documented = {path: {m for m in item if m in HTTP_METHODS} for path, item in spec["paths"].items()}
    for path, methods in DOCUMENTED.items():
        assert path in documented, path
        assert methods <= documented[path], (path, documented[path])


def test_documented_paths_exist_in_the_app(app, spec):
    """Every documented path is a real route with the documented method (the document is not stale)."""
    routes = {}
    for rule in app.url_map.iter_rules():
        template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes.setdefault(template, set()).update(m.lower() for m in rule.methods)
    for path, item in spec["paths"].items():
        assert path in routes, path
        assert {m for m in item if m in HTTP_METHODS} <= routes[path], path


def test_path_parameters_are_declared(spec):
    for path in DOCUMENTED:
        for method in DOCUMENTED[path]:
            params = parameters(spec, path, method)
            for name in re.findall(r"{([^}]+)}", path):
                assert ("path", name) in params, (path, name)
                assert params[("path", name)]["required"] is True
    event_id = parameters(spec, "/api/events/{event_id}", "get")[("path", "event_id")]
    assert event_id["schema"].get("format") == "uuid"


def test_append_request_body_references_the_append_request_schema(spec):
    operation = spec["paths"]["/api/authorities/{slug}/events"]["post"]
    body = resolve(spec, operation["requestBody"])
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AppendRequest"}

    schema = spec["components"]["schemas"]["AppendRequest"]
    assert {"kind", "effective_on", "payload", "source"} <= set(schema["required"])
    assert {"event_id", "occurred", "date_precision", "expected_version"} <= set(schema["properties"])
    # Transaction-time fields are the server's: a client cannot send them.
    assert not {"recorded_at", "recorded_by", "position", "version", "authority"} & set(schema["properties"])
    assert schema.get("additionalProperties") is False
    assert "monitoring_visit" in schema["properties"]["kind"]["enum"]


def test_append_documents_its_auth_header_and_answers(spec):
    operation = spec["paths"]["/api/authorities/{slug}/events"]["post"]
    assert {"bearerAuth": []} in operation["security"]
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    key = parameters(spec, "/api/authorities/{slug}/events", "post")[("header", "Idempotency-Key")]
    assert key["schema"]["maxLength"] == 200
    responses = operation["responses"]
    assert resolve(spec, responses["201"])["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Event"}
    for code in ("400", "401", "403", "404", "409", "413", "415", "422"):
        content = resolve(spec, responses[code])["content"]
        assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}, code
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem)


@pytest.mark.parametrize("path", ["/api/authorities/{slug}/status", "/api/status"])
def test_status_documents_as_of_and_known_at(spec, path):
    params = parameters(spec, path, "get")
    as_of = params[("query", "as_of")]
    known_at = params[("query", "known_at")]
    assert as_of["schema"] == {"type": "string", "format": "date"}
    assert as_of.get("required", False) is False and known_at.get("required", False) is False
    assert known_at["schema"]["type"] == "string"
    assert as_of.get("description") and known_at.get("description")


def test_list_queries_document_their_parameters(spec):
    timeline = parameters(spec, "/api/authorities/{slug}/timeline", "get")
    assert {("query", n) for n in ("known_at", "from", "to", "kind", "cursor", "limit")} <= set(timeline)
    assert timeline[("query", "limit")]["schema"].get("minimum") == 1
    concerns = parameters(spec, "/api/authorities/{slug}/concerns", "get")
    assert set(concerns[("query", "state")]["schema"]["enum"]) == {"open", "overdue", "closed", "all"}
    feed = parameters(spec, "/api/events", "get")
    assert {("query", "after"), ("query", "limit")} <= set(feed)


def test_unknown_resources_are_documented_as_404_problems(spec):
    for path in [p for p in DOCUMENTED if "{" in p]:
        for method in DOCUMENTED[path]:
            response = resolve(spec, spec["paths"][path][method]["responses"]["404"])
            assert "application/problem+json" in response["content"], path


def test_every_documented_error_is_a_problem(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for code, response in operation["responses"].items():
                if code == "default" or code.startswith(("4", "5")):
                    content = resolve(spec, response).get("content", {})
                    assert list(content) == ["application/problem+json"], (path, method, code, content)


# -- the docs page, offline ------------------------------------------------

class _Resources(HTMLParser):
    """Collects script src and link href URLs, and inline script text."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.links: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in attrs
            if "src" in attrs:
                self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])
            if "stylesheet" in (attrs.get("rel") or ""):
                self.styles.append(attrs["href"])
        elif tag in ("img", "iframe") and attrs.get("src"):
            self.links.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline.append(data)


@pytest.fixture
def docs(client) -> tuple[str, _Resources]:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    parser = _Resources()
    parser.feed(html)
    return html, parser


def test_docs_load_only_local_scripts_and_styles(docs):
    html, found = docs
    assert found.scripts and found.styles
    assert any(url.endswith("swagger-ui-bundle.js") for url in found.scripts)
    assert any(url.endswith(".css") for url in found.styles)
    for url in found.scripts + found.styles + found.links:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert url.startswith(ASSETS), url
    assert not re.search(r"https?://", html)
    assert not re.search(r"""(src|href)\s*=\s*["']//""", html)


def test_every_docs_asset_is_served(client, docs):
    _, found = docs
    for url in found.scripts + found.styles:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.data) > 1000, url
        if url.endswith(".js"):
            assert "javascript" in response.mimetype, url
        if url.endswith(".css"):
            assert response.mimetype == "text/css", url


def test_stylesheets_pull_in_nothing_from_the_network(client, docs):
    _, found = docs
    for url in found.styles:
        css = client.get(url).get_data(as_text=True)
        assert "@import" not in css
        for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            assert target.startswith("data:") or not urlsplit(target).netloc, (url, target)


def test_docs_point_at_the_local_openapi_document(client, docs):
    _, found = docs
    config = "".join(found.inline)
    urls = re.findall(r"""url\s*:\s*["']([^"']+)["']""", config)
    assert urls == ["/api/openapi.json"]
    assert client.get(urls[0]).status_code == 200


def test_missing_asset_is_a_404_problem(client):
    response = client.get(f"{ASSETS}no-such-file.js")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert client.get(f"{ASSETS}../../../../etc/passwd").status_code == 404
