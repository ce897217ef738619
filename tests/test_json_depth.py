"""The JSON depth check: its quick pass over documents that fit agrees with the walk that names the path."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.api.requests import too_deep_at

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                    max_leaves=40)


def containers_at(value: object, path: str = "", depth: int = 0):
    """(path, depth) of every container in a document, as too_deep_at names paths."""
    if isinstance(value, (dict, list)):
        yield path or "body", depth
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            yield from containers_at(child, f"{path}.{key}" if path else str(key), depth + 1)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(JSON, st.integers(min_value=0, max_value=6))
def test_a_document_is_too_deep_exactly_when_a_container_sits_at_the_limit_and_the_path_names_one(value, limit):
    found = too_deep_at(value, limit)
    deep = {path for path, depth in containers_at(value) if depth >= limit}
    if deep:
        assert found in deep
    else:
        assert found is None
