"""Resolve a lookup path against a model: relations walked, columns typed, secrets hidden.

A path is walked through `sqlalchemy.inspect(model)`: each relationship is a hop (to-one or
to-many), then a column ends it; a JSON column takes the remaining segments as keys, a
datetime or date column takes one transform. A path that ends on a relationship compares
the related primary key. Columns and relationships marked `info={"secret": True}` do not
exist for the query language (SPEC §2).
"""

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Time,
    TypeDecorator,
    Uuid,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, InstrumentedAttribute, Mapper, RelationshipProperty
from sqlalchemy.types import TypeEngine

from labapi.core.errors import QueryError
from labapi.query.grammar import TRANSFORMS


class Kind(enum.StrEnum):
    """What a value is, for coercion and for the operators that fit it."""

    TEXT = "text"
    ENUM = "enum"
    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    TIME = "time"
    UUID = "uuid"
    JSON = "json"


# The kind of the value a transform yields.
TRANSFORM_KINDS: dict[str, Kind] = {
    "date": Kind.DATE,
    "time": Kind.TIME,
    **dict.fromkeys(("year", "month", "day", "week_day", "hour", "minute"), Kind.INTEGER),
}
DATE_TRANSFORMS = ("year", "month", "day", "week_day")

_COMMON = ("exact", "in", "isnull")
_ORDERED = ("gt", "gte", "lt", "lte", "range")
_TEXT = (
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "like",
    "ilike",
    "containsall",
    "icontainsall",
    "regex",
    "iregex",
)
# The operators that fit each kind of value; anything else is a 400.
OPERATORS_BY_KIND: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: _COMMON + _TEXT + _ORDERED,
    Kind.ENUM: _COMMON + _TEXT,
    Kind.INTEGER: _COMMON + _ORDERED,
    Kind.FLOAT: _COMMON + _ORDERED,
    Kind.DECIMAL: _COMMON + _ORDERED,
    Kind.BOOLEAN: _COMMON,
    Kind.DATETIME: _COMMON + _ORDERED,
    Kind.DATE: _COMMON + _ORDERED,
    Kind.TIME: _COMMON + _ORDERED,
    Kind.UUID: _COMMON,
    Kind.JSON: _COMMON + _TEXT + _ORDERED + ("has_key",),
}

# Per-model shorthands every resource has (SPEC §2).
BUILTIN_ALIASES: dict[str, str] = {"pk": "id", "uupk": "uuid"}


@dataclass(frozen=True)
class Hop:
    """One relationship crossed by a path."""

    attr: InstrumentedAttribute[Any]
    prop: RelationshipProperty[Any]
    to_many: bool


@dataclass(frozen=True)
class Field:
    """A resolved path: the hops, then a column (maybe a JSON key path or a transform)."""

    hops: tuple[Hop, ...]
    column: InstrumentedAttribute[Any]
    kind: Kind
    json_path: tuple[str, ...] = ()
    transform: str | None = None
    relation_end: bool = False
    enum_cls: type[enum.Enum] | None = None

    @property
    def value_kind(self) -> Kind:
        """The kind of the compared value: a transform's result, else the column's."""
        if self.transform is not None:
            return TRANSFORM_KINDS[self.transform]
        return self.kind


def base_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type that decides behaviour: a TypeDecorator's impl, a variant's base."""
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return type_


def column_kind(type_: TypeEngine[Any]) -> Kind:
    """Classify a column type."""
    type_ = base_type(type_)
    checks: tuple[tuple[type[TypeEngine[Any]], Kind], ...] = (
        (SAEnum, Kind.ENUM),
        (Boolean, Kind.BOOLEAN),
        (Integer, Kind.INTEGER),
        (Float, Kind.FLOAT),
        (Numeric, Kind.DECIMAL),
        (DateTime, Kind.DATETIME),
        (Date, Kind.DATE),
        (Time, Kind.TIME),
        (Uuid, Kind.UUID),
        (JSON, Kind.JSON),
    )
    for sa_type, kind in checks:
        if isinstance(type_, sa_type):
            return kind
    return Kind.TEXT


def is_secret(prop: Any) -> bool:
    """Whether a mapped property is hidden from every query path."""
    if isinstance(prop, ColumnProperty):
        # A `column_property` expression (a labelled subquery) has no `info`.
        return any(
            bool(getattr(column, "info", {}).get("secret")) for column in prop.columns
        ) or bool(prop.info.get("secret"))
    return bool(getattr(prop, "info", {}).get("secret"))


def _public(mapper: Mapper[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    columns = {p.key: p for p in mapper.column_attrs if not is_secret(p)}
    relations = {p.key: p for p in mapper.relationships if not is_secret(p)}
    return columns, relations


def field_names(model: type[Any]) -> list[str]:
    """Every public column and relationship name of a model, for error messages."""
    columns, relations = _public(sa_inspect(model))
    return sorted({*columns, *relations, "pk"} | ({"uupk"} if "uuid" in columns else set()))


def expand_alias(
    path: tuple[str, ...], aliases: dict[str, str], model: type[Any] | None = None
) -> tuple[str, ...]:
    """Apply a resource alias when the whole path is the alias (`tags` -> `tags__name`),
    or when the path starts with an alias that is no field of `model` (`projects__pk` ->
    `targets__projects__pk` on analyses)."""
    if len(path) >= 1 and "__".join(path) in aliases:
        return tuple(aliases["__".join(path)].split("__"))
    if model is not None and len(path) > 1 and path[0] in aliases:
        columns, relations = _public(sa_inspect(model))
        if path[0] not in columns and path[0] not in relations:
            return (*aliases[path[0]].split("__"), *path[1:])
    return path


def resolve(
    model: type[Any],
    path: tuple[str, ...],
    param: str,
    aliases: dict[str, str] | None = None,
) -> Field:
    """Walk `path` from `model` to a typed field.

    Args:
        model: the mapped class the query lists.
        path: the lookup's field path (operator already split off).
        param: the query parameter, named in errors.
        aliases: the resource's shorthands, applied when they are the whole path.

    Returns:
        The resolved field.

    Raises:
        QueryError: a segment names no public field, or a transform does not fit.
    """
    path = expand_alias(path, aliases or {}, model)
    mapper: Mapper[Any] = sa_inspect(model)
    hops: list[Hop] = []
    for index, segment in enumerate(path):
        columns, relations = _public(mapper)
        name = segment
        if name in BUILTIN_ALIASES and name not in columns and name not in relations:
            name = BUILTIN_ALIASES[name]
        rest = path[index + 1 :]
        if name in relations:
            prop = relations[name]
            hops.append(Hop(getattr(mapper.class_, name), prop, bool(prop.uselist)))
            mapper = prop.mapper
            if not rest:
                pk = mapper.primary_key[0]
                return Field(
                    tuple(hops),
                    getattr(mapper.class_, mapper.get_property_by_column(pk).key),
                    column_kind(pk.type),
                    relation_end=True,
                )
            continue
        if name in columns:
            attr = getattr(mapper.class_, name)
            column = columns[name].columns[0]
            kind = column_kind(column.type)
            enum_cls = getattr(base_type(column.type), "enum_class", None)
            if kind is Kind.JSON:
                return Field(tuple(hops), attr, kind, json_path=rest)
            if not rest:
                return Field(tuple(hops), attr, kind, enum_cls=enum_cls)
            if len(rest) == 1 and rest[0] in TRANSFORMS:
                transform = rest[0]
                if kind is Kind.DATETIME or (kind is Kind.DATE and transform in DATE_TRANSFORMS):
                    return Field(tuple(hops), attr, kind, transform=transform)
                raise QueryError.one(
                    param,
                    f"transform '{transform}' does not apply to {kind} field '{name}'",
                    "operator_mismatch",
                )
            if len(rest) == 1:
                valid = OPERATORS_BY_KIND[kind]
                if kind in (Kind.DATETIME, Kind.DATE):
                    valid = valid + TRANSFORMS
                raise QueryError.one(
                    param,
                    f"unknown operator '{rest[0]}' on {kind} field '{name}'; "
                    f"valid: {', '.join(valid)}",
                    "unknown_operator",
                )
            raise QueryError.one(
                param, f"'{name}' is a {kind} field and has no field '{rest[0]}'", "unknown_field"
            )
        names = ", ".join(field_names(mapper.class_))
        raise QueryError.one(
            param,
            f"unknown field '{segment}' on {mapper.class_.__name__}; valid: {names}",
            "unknown_field",
        )
    raise QueryError.one(param, "empty lookup", "invalid_syntax")
