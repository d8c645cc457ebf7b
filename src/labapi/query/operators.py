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
import warnings
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
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine

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
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        # Trap: `0001-01-01T00:00+01:00` parses but overflows when moved to UTC.
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValueError_(f"{raw!r} is not an ISO 8601 datetime") from None


def parse_time(raw: str) -> dt.time:
    """An ISO 8601 time of day; one with a UTC offset is moved to UTC (the transforms
    read UTC), a naive one is UTC already."""
    text = raw.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    value = dt.time.fromisoformat(text)
    if value.tzinfo is None:
        return value
    moved = dt.datetime.combine(dt.date(2000, 1, 3), value).astimezone(dt.UTC)
    return moved.time()


def coerce(raw: str, kind: Kind, enum_cls: type[enum.Enum] | None = None, bits: int = 64) -> Any:
    """Turn one raw value into the Python value of `kind`.

    `bits` bounds integers by the column's width (PostgreSQL refuses an `int4` parameter
    out of range, which would otherwise be a 500).

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
    if kind is Kind.DATETIME:
        return parse_datetime(raw)
    try:
        if kind is Kind.DATE:
            return dt.date.fromisoformat(raw.strip())
        if kind is Kind.TIME:
            return parse_time(raw)
        value = _ADAPTERS[kind].validate_python(raw.strip())
    except (ValueError, ValidationError, OverflowError):
        raise ValueError_(f"{raw!r} is not a valid {kind} value") from None
    if kind is Kind.FLOAT and value != value:  # NaN never compares equal: refuse it
        raise ValueError_(f"{raw!r} is not a valid {kind} value")
    if kind is Kind.DECIMAL and not value.is_finite():
        raise ValueError_(f"{raw!r} is not a valid {kind} value")
    if kind is Kind.INTEGER and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError_(f"{raw!r} is out of the {bits}-bit integer range of the field")
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

    The path is rendered into bound parameters at compilation, so it must be part of the
    cache key: two statements differing only by their paths would otherwise share one
    cached compilation, and the second would silently run with the first one's path.
    """

    _traverse_internals = FunctionElement._traverse_internals + [
        ("path", InternalTraversal.dp_plain_obj),
    ]
    inherit_cache = True

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
    inherit_cache = True


class JsonNumber(_PathFunction):
    """The JSON value at a key path as a number when it is one, else NULL."""

    type = Numeric()
    name = "json_number"
    inherit_cache = True


class JsonHasKey(_PathFunction):
    """Whether the JSON object at the path minus its last element has that key."""

    type = Boolean()
    name = "json_has_key"
    inherit_cache = True


class JsonEquals(_PathFunction):
    """Whether the whole JSON document equals a JSON value (the path holds its text)."""

    type = Boolean()
    name = "json_equals"
    inherit_cache = True


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
    # `part` and `is_date` change the SQL: they belong to the cache key.
    _traverse_internals = FunctionElement._traverse_internals + [
        ("part", InternalTraversal.dp_string),
        ("is_date", InternalTraversal.dp_boolean),
    ]
    inherit_cache = True

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


# Offsets in the stored text, 'YYYY-MM-DD HH:MM:SS.ffffff' (a date column: 'YYYY-MM-DD').
_SQLITE_SLICES = {
    "year": (1, 4),
    "month": (6, 2),
    "day": (9, 2),
    "hour": (12, 2),
    "minute": (15, 2),
}


@compiles(DatetimePart, "sqlite")
def _part_sqlite(element: DatetimePart, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored text is 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (core.models.UTCDateTime). Trap:
    # SQLite's date functions round the fraction, so '2016-12-31 23:59:59.999999' would be
    # a Sunday; the parts are therefore read by slicing, the weekday from the date alone.
    col = compiler.process(list(element.clauses)[0], **kw)
    if element.part == "date":
        return f"substr({col}, 1, 10)"
    if element.part == "time":
        return f"substr({col}, 12)"
    if element.part == "week_day":
        return f"(CAST(strftime('%w', substr({col}, 1, 10)) AS INTEGER) + 1)"
    start, length = _SQLITE_SLICES[element.part]
    return f"CAST(substr({col}, {start}, {length}) AS INTEGER)"


_PART_TYPES: dict[str, TypeEngine[Any]] = {"date": Date(), "time": Time()}


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
    # Backslash escapes a wildcard, as PostgreSQL's default; SQLite has no default escape.
    "like": lambda c, v: c.like(v, escape="\\"),
    "ilike": lambda c, v: c.ilike(v, escape="\\"),
    "containsall": _containsall,
    "icontainsall": _icontainsall,
    "in": lambda c, v: c.in_(v),
    "range": lambda c, v: c.between(v[0], v[1]),
    "isnull": lambda c, v: c.is_(None) if v else c.is_not(None),
    "regex": lambda c, v: c.regexp_match(v),
    # `flags="i"` is dropped on SQLite; a leading `(?i)` means the same on both databases.
    "iregex": lambda c, v: c.regexp_match("(?i)" + v),
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


# Escapes that mean the same to Python's `re` and PostgreSQL's AREs.
_REGEX_ESCAPES = frozenset("dDsSwWnrtfvAZ")
_REGEX_CLASS_ESCAPES = frozenset("dswnrtfv")
_REGEX_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")
_REGEX_BOUND = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")
# PostgreSQL's RE_DUP_MAX: a larger bound is an error there.
_REGEX_MAX_BOUND = 255


def _regex_escape_ok(escape: str, allowed: frozenset[str]) -> bool:
    return escape.isascii() and (not escape.isalnum() or escape in allowed)


def _regex_class_end(pattern: str, start: int) -> int:
    """The index after the bracket expression opening at `start`.

    Raises:
        ValueError_: a construct the two engines read differently.
    """
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    after_range = False
    while i < len(pattern) and pattern[i] != "]":
        char = pattern[i]
        if char == "[" or pattern.startswith(("--", "&&", "~~", "||"), i):
            raise ValueError_(f"unsupported bracket expression at position {i}")
        if char == "\\":
            if not _regex_escape_ok(pattern[i + 1 : i + 2], _REGEX_CLASS_ESCAPES):
                raise ValueError_(f"unsupported escape at position {i}")
            if pattern.startswith("-", i + 2) and not pattern.startswith("]", i + 3):
                raise ValueError_(f"unsupported range from an escape at position {i}")
            i, after_range = i + 2, False
            continue
        if char == "-" and after_range and not pattern.startswith("]", i + 1):
            raise ValueError_(f"ranges sharing an endpoint at position {i}")
        if pattern.startswith("-", i + 1) and not pattern.startswith("]", i + 2):
            if pattern.startswith(("\\", "[", "-"), i + 2):
                raise ValueError_(f"unsupported range end at position {i + 2}")
            i, after_range = i + 3, True
            continue
        i, after_range = i + 1, False
    return i + 1


def _check_portable_regex(pattern: str) -> None:
    """Refuse what Python's `re` and PostgreSQL's regular expressions read differently.

    A pattern runs on PostgreSQL (`~`) and on SQLite (Python's `re`) and is checked with
    `re` first, so one that `re` accepts but PostgreSQL refuses would be a 500 there. The
    portable subset: literals, `.`, `^`, `$`, `|`, groups `( )`, `(?: )` and lookarounds,
    bracket expressions, `* + ?` (lazy with `?`), `{m}`, `{m,}`, `{m,n}` up to 255, the
    escapes `\\d \\s \\w` (and their negations), `\\n \\r \\t \\f \\v \\A \\Z`, and a
    backslash before punctuation. Left out: back-references, named groups, inline flags,
    possessive quantifiers, POSIX classes, `\\b` (a word boundary in Python, a backspace
    in PostgreSQL). Patterns `re` refuses are refused before this runs.

    Raises:
        ValueError_: the pattern leaves the portable subset.
    """
    i = 0
    state = "none"  # what precedes: "atom", "lookaround", "quantifier", "lazy", "none"
    lookarounds: list[bool] = []  # per open group: whether it is a lookaround
    while i < len(pattern):
        char = pattern[i]
        bound = _REGEX_BOUND.match(pattern, i) if char == "{" else None
        if char in "*+?" or bound is not None:
            if state == "lookaround":
                raise ValueError_(f"a lookaround cannot be repeated (position {i})")
            if state == "lazy" or (state == "quantifier" and char != "?"):
                raise ValueError_(f"unsupported quantifier at position {i}")
            if bound is not None:
                if any(int(n) > _REGEX_MAX_BOUND for n in bound.groups() if n):
                    raise ValueError_(f"a repetition count above {_REGEX_MAX_BOUND}")
                i, state = bound.end(), "quantifier"
            else:
                i, state = i + 1, "lazy" if state == "quantifier" else "quantifier"
            continue
        if char == "\\":
            if not _regex_escape_ok(pattern[i + 1 : i + 2], _REGEX_ESCAPES):
                raise ValueError_(f"unsupported escape at position {i}")
            i, state = i + 2, "atom"
        elif char == "[":
            i, state = _regex_class_end(pattern, i), "atom"
        elif char == "(":
            prefix = "("
            if pattern.startswith("(?", i):
                prefix = next((p for p in _REGEX_GROUPS if pattern.startswith(p, i)), "")
                if not prefix:
                    raise ValueError_(f"unsupported group at position {i}")
            lookarounds.append(prefix not in ("(", "(?:"))
            i, state = i + len(prefix), "none"
        elif char == ")":
            is_lookaround = lookarounds.pop() if lookarounds else False
            i, state = i + 1, "lookaround" if is_lookaround else "atom"
        elif char == "{" and (pattern[i + 1 : i + 2].isdigit() or pattern.startswith("{,", i)):
            raise ValueError_(f"unbalanced repetition braces at position {i}")
        else:
            i, state = i + 1, "atom"


def check_regex(raw: str) -> None:
    """Refuse a pattern that does not compile or that the two databases read differently.

    Raises:
        ValueError_: an invalid or non-portable pattern.
    """
    try:
        with warnings.catch_warnings():
            # A FutureWarning ("possible nested set") is about syntax refused below anyway.
            warnings.simplefilter("ignore")
            re.compile(raw)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError_(f"invalid regular expression: {exc}") from None
    try:
        _check_portable_regex(raw)
    except ValueError_ as exc:
        raise ValueError_(f"invalid regular expression: {exc}") from None


def check_like(raw: str) -> None:
    """Refuse a LIKE pattern ending with a lone escape (PostgreSQL raises on it).

    Raises:
        ValueError_: the pattern ends with an unescaped backslash.
    """
    trailing = len(raw) - len(raw.rstrip("\\"))
    if trailing % 2:
        raise ValueError_(f"invalid LIKE pattern {raw!r}: it ends with the escape character '\\'")


def null_safe_not(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Django's `exclude()`: the exact complement, rows where the test is NULL included."""
    return not_(func.coalesce(condition, false(), type_=Boolean()))


def _json_strings_ok(value: Any) -> bool:
    """No NUL and no lone surrogate in any string of a decoded JSON value (PostgreSQL's
    jsonb refuses both)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def json_exact(column: Any, raw: str) -> ColumnElement[bool]:
    """A whole JSON document equal to the JSON value `raw` (strict JSON: no NaN)."""
    try:
        value = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ValueError_(f"{raw!r} is not a JSON value") from None
    if not _json_strings_ok(value):
        raise ValueError_(f"{raw!r} holds a string no database can store")
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):  # pragma: no cover - json.loads refused it first
        raise ValueError_(f"{raw!r} is not a JSON value") from None
    return JsonEquals(column, (text,))


def always(value: bool) -> ColumnElement[bool]:
    """A constant condition."""
    return true() if value else false()
