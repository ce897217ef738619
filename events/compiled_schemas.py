"""Marshmallow schemas compiled into plain checks, for the loads that pass.

Marshmallow costs about 130 µs to load one event (most of a bulk load's time).
`compiled(schema)` walks a schema's fields once and builds a loader from plain
closures that gives the same output as `schema.load` on every input it
accepts. It only vouches for inputs in the plain JSON shapes (exact `str`,
`int`, `bool`, `list`, `dict`, canonical UUIDs); on anything else, and on any
failed check, it raises `Fallback` and the caller runs marshmallow itself, so
refusals, and their messages, are always marshmallow's. The field validators
(`validate.Length`, `OneOf`, `Range`, `URL`, ...) and the schema-level
`@validates_schema` hooks are the schemas' own objects, called as marshmallow
calls them; only the type coercion is re-done here, narrowed to exact types.

A schema using anything this module does not know (other field types, pre- or
post-load hooks, `@validates`, `data_key`, `attribute`, unknown != RAISE) is
not compiled: its loader is marshmallow's. tests/test_compiled_schemas.py
checks the two agree on real and generated events and on mutations of them.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing

Loader = Callable[[object], object]
_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


class Fallback(Exception):
    """The compiled loader cannot vouch for this input: let marshmallow decide (and word the error)."""


class NotCompilable(Exception):
    """The schema uses something this module does not reproduce."""


def load(schema: Schema, data: object) -> dict:
    """`schema.load(data)`, through the compiled loader when it vouches for `data`."""
    loader = compiled(schema)
    if loader is not None:
        try:
            return loader(data)
        except Fallback:
            pass
    return schema.load(data)


@functools.cache
def compiled(schema: Schema) -> Loader | None:
    """The compiled loader of a schema instance (cached), or None if it cannot be compiled."""
    try:
        return _schema_loader(schema)
    except NotCompilable:
        return None


def _schema_loader(schema: Schema) -> Loader:
    if schema.many or schema.partial or schema.unknown != RAISE:
        raise NotCompilable("only single, whole, unknown=RAISE schemas")
    if schema._hooks[PRE_LOAD] or schema._hooks[POST_LOAD] or schema._hooks[VALIDATES]:
        raise NotCompilable("pre/post-load processors and @validates")
    hooks = []
    for attr_name, hook_many, kwargs in schema._hooks[VALIDATES_SCHEMA]:
        if hook_many or kwargs.get("pass_original") or not kwargs.get("skip_on_field_errors", True):
            raise NotCompilable("schema validators other than the plain kind")
        hooks.append(getattr(schema, attr_name))
    plan = []
    for name, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None:
            raise NotCompilable("data_key / attribute")
        plan.append((name, field.required, field.load_default, field.allow_none, _field_loader(field)))
    names = frozenset(schema.load_fields)

    def load_schema(data: object) -> dict:
        if type(data) is not dict or not names.issuperset(data):
            raise Fallback
        out = {}
        for name, required, default, allow_none, loader in plan:
            value = data.get(name, missing)
            if value is missing:
                if required:
                    raise Fallback
                if default is not missing:
                    out[name] = default() if callable(default) else default
            elif value is None:
                if not allow_none:
                    raise Fallback
                out[name] = None
            else:
                out[name] = loader(value)
        for hook in hooks:
            try:
                hook(out, partial=None, many=False, unknown=RAISE)
            except ValidationError:
                raise Fallback from None
        return out

    return load_schema


def _field_loader(field: fields.Field) -> Loader:
    if field.pre_load or field.post_load:
        raise NotCompilable("field-level pre/post-load functions")
    coerce = _coercion(field)
    check = _validators(field.validators)
    if check is None:
        return coerce

    def load_field(value: object) -> object:
        output = coerce(value)
        check(output)
        return output

    return load_field


def _coercion(field: fields.Field) -> Loader:
    """What `field._deserialize` does, for exact JSON types only."""
    kind = type(field)
    if kind in (fields.String, fields.Url) or _is_partial_date(field):
        extra = _partial_date_check() if _is_partial_date(field) else None

        def string(value: object) -> str:
            if type(value) is not str:
                raise Fallback
            if extra is not None:
                extra(value)
            return value

        return string
    if kind is fields.Integer:
        def integer(value: object) -> int:
            if type(value) is not int:  # marshmallow would coerce "3" and 3.0: let it
                raise Fallback
            return value

        return integer
    if kind is fields.Boolean:
        def boolean(value: object) -> bool:
            if type(value) is not bool:
                raise Fallback
            return value

        return boolean
    if kind is fields.UUID:
        # The payload keeps str(UUID(value)); a canonical lowercase form is already that string.
        def canonical_uuid(value: object) -> str:
            if type(value) is not str or not _CANONICAL_UUID.match(value):
                raise Fallback
            return value

        return canonical_uuid
    if kind is fields.Dict:
        if field.key_field is not None or field.value_field is not None or field.mapping_type is not dict:
            raise NotCompilable("typed dicts")

        def mapping(value: object) -> dict:
            if type(value) is not dict:
                raise Fallback
            return dict(value)

        return mapping
    if kind is fields.List:
        inner = _field_loader(field.inner)

        def items(value: object) -> list:
            if type(value) is not list:
                raise Fallback
            return [inner(each) for each in value]

        return items
    if kind is fields.Nested:
        if field.many or field.only or field.exclude or field.unknown is not None:
            raise NotCompilable("nested options")
        return _schema_loader(field.schema)
    raise NotCompilable(f"field type {kind.__name__}")


def _is_partial_date(field: fields.Field) -> bool:
    from events.schemas import PartialDateField

    return type(field) is PartialDateField


def _partial_date_check() -> Callable[[str], None]:
    from events import dates

    def partial_date(text: str) -> None:
        try:
            dates.parse_partial(text)
        except ValueError:
            raise Fallback from None

    return partial_date


def _validators(validators: list) -> Callable[[object], None] | None:
    """One check running every validator the field has, in order, as `Field._validate` does."""
    checks = [_validator(v) for v in validators]
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def all_of(value: object) -> None:
        for check in checks:
            check(value)

    return all_of


def _validator(validator) -> Callable[[object], None]:
    kind = type(validator)
    if kind is validate.Length and validator.equal is None:
        low, high = validator.min, validator.max

        def length(value) -> None:
            size = len(value)
            if (low is not None and size < low) or (high is not None and size > high):
                raise Fallback

        return length
    if kind is validate.OneOf:
        choices = validator.choices

        def one_of(value) -> None:
            if value not in choices:
                raise Fallback

        return one_of
    if kind is validate.Range and validator.min_inclusive and validator.max_inclusive:
        low, high = validator.min, validator.max

        def in_range(value) -> None:
            if (low is not None and value < low) or (high is not None and value > high):
                raise Fallback

        return in_range

    def call(value) -> None:  # any other validator: the object itself
        try:
            validator(value)
        except ValidationError:
            raise Fallback from None

    return call
