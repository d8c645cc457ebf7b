"""Operators: value coercion by kind, dialect-aware SQL constructs, one builder per operator.

Every value reaches SQL as a bound parameter. The constructs below render per dialect so
that one lookup means the same on PostgreSQL and SQLite: JSON values compared as text
(`true`, `5`, `abc`), datetime parts read in UTC, case-sensitive LIKE.
"""

import datetime as dt
import decimal
import enum
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import (
    ARRAY,
    Boolean,
    Date,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    not_,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from labapi.query.resolve import Kind

BOOL_VALUES = {"true": True, "1": True, "false": False, "0": False}


class ValueError_(Exception):
    """A raw value that does not fit; the message says why (turned into a QueryError)."""


# --------------------------------------------------------------------------- coercion
_ADAPTERS: dict[Kind, TypeAdapter[Any]] = {
    Kind.INTEGER: TypeAdapter(int),
    Kind.FLOAT: TypeAdapter(float),
    Kind.DECIMAL: TypeAdapter(decimal.Decimal),
    Kind.UUID: TypeAdapter(uuid.UUID),
}


def parse_bool(raw: str) -> bool:
    """`true`/`1`/`false`/`0`, any case."""
    try:
        return BOOL_VALUES[raw.strip().lower()]
    except KeyError:
        raise ValueError_(f"{raw!r} is not a boolean; use true or false") from None


def parse_datetime(raw: str) -> dt.datetime:
    """An ISO 8601 datetime (a date alone means its midnight); naive values are UTC."""
    text = raw.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError_(f"{raw!r} is not an ISO 8601 datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def coerce(raw: str, kind: Kind, enum_cls: type[enum.Enum] | None = None) -> Any:
    """Turn one raw value into the Python value of `kind`.

    Raises:
        ValueError_: the value does not fit the kind.
    """
    if kind in (Kind.TEXT, Kind.JSON):
        return raw
    if kind is Kind.BOOLEAN:
        return parse_bool(raw)
    if kind is Kind.ENUM:
        assert enum_cls is not None
        try:
            return enum_cls[raw]
        except KeyError:
            members = ", ".join(member.name for member in enum_cls)
            raise ValueError_(f"{raw!r} is not one of: {members}") from None
    try:
        if kind is Kind.DATETIME:
            return parse_datetime(raw)
        if kind is Kind.DATE:
            return dt.date.fromisoformat(raw.strip())
        if kind is Kind.TIME:
            return dt.time.fromisoformat(raw.strip())
        value = _ADAPTERS[kind].validate_python(raw.strip())
    except (ValueError, ValidationError):
        raise ValueError_(f"{raw!r} is not a valid {kind} value") from None
    if kind is Kind.FLOAT and value != value:  # NaN never compares equal: refuse it
        raise ValueError_(f"{raw!r} is not a valid {kind} value")
    if kind is Kind.INTEGER and not -(2**63) <= value < 2**63:
        raise ValueError_(f"{raw!r} is out of the 64-bit integer range")
    return value


def split_csv(raw: str) -> list[str]:
    """A comma-separated list (`in`, `range`, `containsall`)."""
    return raw.split(",")


# ------------------------------------------------------------------ SQL constructs
def _sqlite_json_path(path: tuple[str, ...]) -> str:
    parts = ["$"]
    for key in path:
        if key.isdigit():
            parts.append(f"[{key}]")
        else:
            parts.append(f'."{key}"')
    return "".join(parts)


class _PathFunction(FunctionElement[Any]):
    """A function of one column and a JSON key path kept as a plain attribute.

    Statements holding one are not cached: the path is rendered into fresh bound
    parameters at each compilation, which a cached statement would otherwise reuse.
    """

    inherit_cache = False

    def __init__(self, column: Any, path: tuple[str, ...]) -> None:
        self.path = tuple(path)
        super().__init__(column)

    @property
    def column(self) -> Any:
        return list(self.clauses)[0]


class JsonText(_PathFunction):
    """The text of a JSON value at a key path: strings bare, `true`/`false`, numbers, NULL
    for JSON null or a missing key; the whole document for an empty path."""

    type = Text()
    name = "json_text"


class JsonNumber(_PathFunction):
    """The JSON value at a key path as a number when it is one, else NULL."""

    type = Numeric()
    name = "json_number"


class JsonHasKey(_PathFunction):
    """Whether the JSON object at the path minus its last element has that key."""

    type = Boolean()
    name = "json_has_key"


class JsonEquals(_PathFunction):
    """Whether the whole JSON document equals a JSON value (the path holds its text)."""

    type = Boolean()
    name = "json_equals"


def _pg_path(path: tuple[str, ...]) -> Any:
    return bindparam(None, list(path), type_=ARRAY(Text()))


def _sqlite_path(path: tuple[str, ...]) -> Any:
    return literal(_sqlite_json_path(path), type_=Text())


@compiles(JsonText, "postgresql")
def _json_text_pg(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    return f"({col} #>> {compiler.process(_pg_path(element.path), **kw)})"


@compiles(JsonText, "sqlite")
def _json_text_sqlite(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    p = compiler.process(_sqlite_path(element.path), **kw)
    return (
        f"(CASE json_type({col}, {p}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"WHEN 'null' THEN NULL ELSE CAST(json_extract({col}, {p}) AS TEXT) END)"
    )


@compiles(JsonNumber, "postgresql")
def _json_number_pg(element: JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    p = compiler.process(_pg_path(element.path), **kw)
    return (
        f"(CASE WHEN jsonb_typeof({col} #> {p}) = 'number' THEN CAST({col} #>> {p} AS NUMERIC) END)"
    )


@compiles(JsonNumber, "sqlite")
def _json_number_sqlite(element: JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    p = compiler.process(_sqlite_path(element.path), **kw)
    return (
        f"(CASE WHEN json_type({col}, {p}) IN ('integer', 'real') "
        f"THEN json_extract({col}, {p}) END)"
    )


@compiles(JsonHasKey, "postgresql")
def _json_has_key_pg(element: JsonHasKey, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    parent = compiler.process(_pg_path(element.path[:-1]), **kw)
    key = compiler.process(bindparam(None, element.path[-1], type_=Text()), **kw)
    return (
        f"(coalesce(jsonb_typeof({col} #> {parent}) = 'object', false) "
        f"AND ({col} #> {parent}) ? {key})"
    )


@compiles(JsonHasKey, "sqlite")
def _json_has_key_sqlite(element: JsonHasKey, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    parent = compiler.process(_sqlite_path(element.path[:-1]), **kw)
    key = compiler.process(literal(element.path[-1], type_=Text()), **kw)
    return (
        f"(coalesce(json_type({col}, {parent}) = 'object', 0) AND EXISTS "
        f"(SELECT 1 FROM json_each({col}, {parent}) AS je WHERE je.key = {key}))"
    )


@compiles(JsonEquals, "postgresql")
def _json_equals_pg(element: JsonEquals, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    value = compiler.process(literal(element.path[0], type_=Text()), **kw)
    return f"({col} = CAST({value} AS JSONB))"


@compiles(JsonEquals, "sqlite")
def _json_equals_sqlite(element: JsonEquals, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    value = compiler.process(literal(element.path[0], type_=Text()), **kw)
    return f"(json({col}) = json({value}))"


def json_text(column: Any, path: tuple[str, ...]) -> ColumnElement[str]:
    """`JsonText` for a column and key path."""
    return JsonText(column, path)


def json_number(column: Any, path: tuple[str, ...]) -> ColumnElement[decimal.Decimal]:
    """`JsonNumber` for a column and key path."""
    return JsonNumber(column, path)


def json_has_key(column: Any, path: tuple[str, ...]) -> ColumnElement[bool]:
    """`JsonHasKey` for a column and a key path ending with the key."""
    return JsonHasKey(column, path)


class DatetimePart(FunctionElement[Any]):
    """A transform of a datetime or date column, read in UTC: `date`, `year`, … `time`."""

    name = "datetime_part"
    inherit_cache = False

    def __init__(self, column: Any, part: str, is_date: bool) -> None:
        self.part, self.is_date = part, is_date
        super().__init__(column)


_PG_PARTS = {
    "year": "YEAR",
    "month": "MONTH",
    "day": "DAY",
    "hour": "HOUR",
    "minute": "MINUTE",
    "week_day": "DOW",
}
_SQLITE_PARTS = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M"}


@compiles(DatetimePart, "postgresql")
def _part_pg(element: DatetimePart, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(list(element.clauses)[0], **kw)
    value = col if element.is_date else f"timezone('UTC', {col})"
    if element.part == "date":
        return f"CAST({value} AS DATE)"
    if element.part == "time":
        return f"CAST({value} AS TIME)"
    extra = " + 1" if element.part == "week_day" else ""
    return f"(CAST(EXTRACT({_PG_PARTS[element.part]} FROM {value}) AS INTEGER){extra})"


@compiles(DatetimePart, "sqlite")
def _part_sqlite(element: DatetimePart, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored text is 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (core.models.UTCDateTime).
    col = compiler.process(list(element.clauses)[0], **kw)
    if element.part == "date":
        return f"date({col})"
    if element.part == "time":
        return f"substr({col}, 12)"
    if element.part == "week_day":
        return f"(CAST(strftime('%w', {col}) AS INTEGER) + 1)"
    return f"CAST(strftime('{_SQLITE_PARTS[element.part]}', {col}) AS INTEGER)"


_PART_TYPES = {"date": Date(), "time": Time()}


def datetime_part(column: Any, part: str, is_date: bool) -> ColumnElement[Any]:
    """`DatetimePart` typed by what it yields (Date, Time or Integer)."""
    return type_coerce(DatetimePart(column, part, is_date), _PART_TYPES.get(part, Integer()))


# ------------------------------------------------------------------ operator builders
Builder = Callable[[Any, Any], ColumnElement[bool]]


def _containsall(column: Any, values: list[str]) -> ColumnElement[bool]:
    return and_(*(column.contains(v, autoescape=True) for v in values))


def _icontainsall(column: Any, values: list[str]) -> ColumnElement[bool]:
    return and_(*(column.icontains(v, autoescape=True) for v in values))


def _iexact(column: Any, value: Any) -> ColumnElement[bool]:
    return func.lower(column) == func.lower(cast(literal(value), String()))


BUILDERS: dict[str, Builder] = {
    "exact": lambda c, v: c == v,
    "iexact": _iexact,
    "contains": lambda c, v: c.contains(v, autoescape=True),
    "icontains": lambda c, v: c.icontains(v, autoescape=True),
    "startswith": lambda c, v: c.startswith(v, autoescape=True),
    "istartswith": lambda c, v: c.istartswith(v, autoescape=True),
    "endswith": lambda c, v: c.endswith(v, autoescape=True),
    "iendswith": lambda c, v: c.iendswith(v, autoescape=True),
    "like": lambda c, v: c.like(v),
    "ilike": lambda c, v: c.ilike(v),
    "containsall": _containsall,
    "icontainsall": _icontainsall,
    "in": lambda c, v: c.in_(v),
    "range": lambda c, v: c.between(v[0], v[1]),
    "isnull": lambda c, v: c.is_(None) if v else c.is_not(None),
    "regex": lambda c, v: c.regexp_match(v),
    "iregex": lambda c, v: c.regexp_match(v, flags="i"),
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
}

LIST_OPERATORS = ("in", "range", "containsall", "icontainsall")
TEXT_OPERATORS = (
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


def check_regex(raw: str) -> None:
    """Refuse a pattern that does not compile (Python's syntax, close to PostgreSQL's)."""
    try:
        re.compile(raw)
    except re.error as exc:
        raise ValueError_(f"invalid regular expression: {exc}") from None


def null_safe_not(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Django's `exclude()`: the exact complement, rows where the test is NULL included."""
    return not_(func.coalesce(condition, false(), type_=Boolean()))


def json_exact(column: Any, raw: str) -> ColumnElement[bool]:
    """A whole JSON document equal to the JSON value `raw`."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValueError_(f"{raw!r} is not a JSON value") from None
    return JsonEquals(column, (json.dumps(value),))


def always(value: bool) -> ColumnElement[bool]:
    """A constant condition."""
    return true() if value else false()
