"""Conditions to SQL: coerce each value by the field's kind, build the operator, wrap the
hops (to-many as EXISTS), OR the lookups of a condition, negate, AND the conditions."""

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, SmallInteger, String, or_, type_coerce
from sqlalchemy.orm import RelationshipDirection
from sqlalchemy.sql.elements import ColumnElement

from labapi.core.errors import ErrorItem, QueryError
from labapi.query.grammar import OPERATORS, Condition, Lookup
from labapi.query.operators import (
    BOOL_VALUES,
    BUILDERS,
    LIST_OPERATORS,
    TEXT_OPERATORS,
    ValueError_,
    check_like,
    check_regex,
    coerce,
    datetime_part,
    json_exact,
    json_has_key,
    json_number,
    json_text,
    null_safe_not,
    parse_bool,
    split_csv,
)
from labapi.query.resolve import OPERATORS_BY_KIND, Field, Hop, Kind, base_type, resolve


class _BadValue(Exception):
    """A value that does not fit one lookup (a combined lookup may skip that part)."""

    def __init__(self, msg: str, kind: str = "invalid_value") -> None:
        super().__init__(msg)
        self.msg, self.kind = msg, kind


def shortcut_foreign_key(field: Field) -> tuple[tuple[Hop, ...], Any]:
    """Compare a many-to-one's local foreign key instead of crossing to the related pk.

    `individual=7` and `individual__pk=7` become `individual_id = 7`, with no subquery.
    """
    if not field.hops or field.json_path or field.transform is not None:
        return field.hops, field.column
    hop = field.hops[-1]
    pairs = hop.prop.local_remote_pairs
    if (
        hop.prop.direction is RelationshipDirection.MANYTOONE
        and len(pairs) == 1
        and pairs[0][1] is field.column.property.columns[0]
    ):
        local = hop.prop.parent.get_property_by_column(pairs[0][0])
        return field.hops[:-1], getattr(hop.prop.parent.class_, local.key)
    return field.hops, field.column


def wrap_hops(hops: Sequence[Hop], condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Nest a condition on the last model inside EXISTS subqueries for every hop."""
    for hop in reversed(hops):
        condition = hop.attr.any(condition) if hop.to_many else hop.attr.has(condition)
    return condition


# A JSON number compared numerically stays within what PostgreSQL's numeric and SQLite's
# REAL both hold; a larger one is compared as text.
_MAX_EXPONENT = 300


def _number(raw: str) -> decimal.Decimal | None:
    try:
        value = decimal.Decimal(raw.strip())
    except decimal.InvalidOperation:
        return None
    if not value.is_finite() or (value and abs(value.adjusted()) > _MAX_EXPONENT):
        return None
    return value


def _json_scalar(column: Any, path: tuple[str, ...], raw: str) -> ColumnElement[bool]:
    """A JSON value at a key path equal to `raw`: as text (`abc`, `5`), as a boolean
    (`True`, `1`, `false`: case-insensitive), or as a number (`5.0` matches `5`)."""
    text = json_text(column, path)
    lowered = raw.lower()
    candidates = {raw, str(BOOL_VALUES[lowered]).lower()} if lowered in BOOL_VALUES else {raw}
    condition = text.in_(sorted(candidates))
    number = _number(raw)
    if number is None:
        return condition
    return or_(condition, json_number(column, path) == number)


def _json_condition(field: Field, op: str, raw: str) -> ColumnElement[bool]:
    column, path = field.column, field.json_path
    if op == "has_key":
        return json_has_key(column, (*path, raw))
    if op == "isnull":
        return (
            json_text(column, path).is_(None)
            if parse_bool(raw)
            else json_text(column, path).is_not(None)
        )
    if not path and op in ("exact", "in"):
        values = split_csv(raw) if op == "in" else [raw]
        return or_(*(json_exact(column, value) for value in values))
    text = json_text(column, path)
    if op in ("exact", "in"):
        values = split_csv(raw) if op == "in" else [raw]
        return or_(*(_json_scalar(column, path, value) for value in values))
    if op in ("gt", "gte", "lt", "lte", "range"):
        values = split_csv(raw) if op == "range" else [raw]
        if op == "range" and len(values) != 2:
            raise _BadValue("range takes two comma-separated values")
        numbers = [_number(value) for value in values]
        if path and all(number is not None for number in numbers):
            target: Any = json_number(column, path)
            return BUILDERS[op](target, numbers if op == "range" else numbers[0])
        return BUILDERS[op](text, values if op == "range" else values[0])
    return _text_condition(text, op, raw)


def _text_condition(expr: Any, op: str, raw: str) -> ColumnElement[bool]:
    if op in ("regex", "iregex"):
        check_regex(raw)
    if op in ("like", "ilike"):
        check_like(raw)
    value: Any = split_csv(raw) if op in LIST_OPERATORS else raw
    if op == "range" and len(value) != 2:
        raise _BadValue("range takes two comma-separated values")
    return BUILDERS[op](expr, value)


def _time_exact(expr: Any, raw: str, value: dt.time) -> ColumnElement[bool]:
    # `created__time=21:00:51` names the whole second, as a rendered time without its
    # fraction would; with a fraction it is exact.
    if "." in raw:
        exact: ColumnElement[bool] = expr == value
        return exact
    whole: ColumnElement[bool] = expr.between(value, value.replace(microsecond=999999))
    return whole


def _integer_bits(field: Field) -> int:
    """The width of the compared integer: a transform yields a 32-bit `integer`."""
    if field.transform is not None:
        return 32
    type_ = base_type(field.column.property.columns[0].type)
    if isinstance(type_, BigInteger):
        return 64
    if isinstance(type_, SmallInteger):
        return 16
    return 32


def _coerced(raw: str, field: Field, kind: Kind) -> Any:
    enum_cls = field.enum_cls if field.transform is None else None
    bits = _integer_bits(field) if kind is Kind.INTEGER else 64
    return coerce(raw, kind, enum_cls, bits)


def _check_storable(raw: str) -> None:
    """Refuse text no database parameter can carry (PostgreSQL refuses NUL; a lone
    surrogate cannot be encoded): a 400 like Django's "Null characters are not allowed"."""
    if "\x00" in raw:
        raise ValueError_("null characters are not allowed")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError_(f"{raw!r} is not valid text") from None


def alias_operator(lookup: Lookup, aliases: dict[str, str]) -> Lookup:
    """An alias may end with an operator (`has_bam_for` -> `bam_files__has_key`); it
    applies when the lookup itself has none."""
    target = aliases.get("__".join(lookup.path))
    if target is None or lookup.op != "exact":
        return lookup
    *path, last = target.split("__")
    if path and last in OPERATORS:
        return Lookup(tuple(path), last)
    return lookup


def compile_lookup(
    model: type[Any],
    lookup: Lookup,
    raw: str | None,
    param: str,
    aliases: dict[str, str] | None = None,
) -> ColumnElement[bool]:
    """Compile one lookup with its raw value (None for a bare flag, meaning `true`).

    Raises:
        QueryError: unknown field or operator (always), _BadValue: a value that does not fit.
    """
    lookup = alias_operator(lookup, aliases or {})
    field = resolve(model, lookup.path, param, aliases)
    op, kind = lookup.op, field.value_kind
    if op not in OPERATORS_BY_KIND[kind]:
        valid = ", ".join(OPERATORS_BY_KIND[kind])
        raise QueryError.one(
            param,
            f"operator '{op}' does not apply to a {kind} field; valid: {valid}",
            "operator_mismatch",
        )
    text = "true" if raw is None else raw
    try:
        _check_storable(text)
        if kind is Kind.JSON:
            return wrap_hops(field.hops, _json_condition(field, op, text))
        hops, column = shortcut_foreign_key(field)
        expr: Any = column
        if field.transform is not None:
            expr = datetime_part(column, field.transform, field.kind is Kind.DATE)
        if op == "isnull":
            present = wrap_hops(hops, expr.is_not(None))
            return null_safe_not(present) if parse_bool(text) else present
        if op in TEXT_OPERATORS:
            if kind is not Kind.TEXT:
                expr = type_coerce(expr, String())
            return wrap_hops(hops, _text_condition(expr, op, text))
        if op in LIST_OPERATORS:
            values = [_coerced(part, field, kind) for part in split_csv(text)]
            if op == "range" and len(values) != 2:
                raise _BadValue("range takes two comma-separated values")
            return wrap_hops(hops, BUILDERS[op](expr, values))
        value = _coerced(text, field, kind)
        if op == "exact" and kind is Kind.TIME:
            return wrap_hops(hops, _time_exact(expr, text, value))
        return wrap_hops(hops, BUILDERS[op](expr, value))
    except ValueError_ as exc:
        raise _BadValue(str(exc)) from None


def compile_condition(
    model: type[Any], condition: Condition, aliases: dict[str, str] | None = None
) -> ColumnElement[bool]:
    """Compile one filter parameter: its lookups OR'ed, negated when it ends with `!`.

    In a combined lookup a part whose value does not fit its field is left out (a quick
    search for `abc` skips the `id` part); the parameter is a 400 only if no part fits.

    Raises:
        QueryError: the condition cannot be compiled.
    """
    parts: list[ColumnElement[bool]] = []
    problems: list[str] = []
    for lookup in condition.lookups:
        try:
            parts.append(compile_lookup(model, lookup, condition.raw, condition.param, aliases))
        except _BadValue as exc:
            problems.append(exc.msg)
    if not parts:
        kind = "invalid_regex" if problems[0].startswith("invalid regular") else "invalid_value"
        raise QueryError.one(condition.param, "; ".join(problems), kind)
    combined = parts[0] if len(parts) == 1 else or_(*parts)
    return null_safe_not(combined) if condition.negate else combined


def compile_filters(
    model: type[Any], conditions: Sequence[Condition], aliases: dict[str, str] | None = None
) -> list[ColumnElement[bool]]:
    """Compile every condition; all bad parameters are reported together.

    Args:
        model: the mapped class being listed.
        conditions: the parsed filter parameters.
        aliases: the resource's shorthands.

    Returns:
        One SQL condition per parameter, to be AND'ed.

    Raises:
        QueryError: one or more parameters are invalid.
    """
    clauses: list[ColumnElement[bool]] = []
    errors: list[ErrorItem] = []
    for condition in conditions:
        try:
            clauses.append(compile_condition(model, condition, aliases))
        except QueryError as exc:
            errors.extend(exc.errors)
    if errors:
        raise QueryError(errors)
    return clauses


def search_terms(raw: str) -> list[str]:
    """DRF SearchFilter terms: NUL dropped, split on whitespace and commas."""
    return [term for term in raw.replace("\x00", "").replace(",", " ").split() if term]


def compile_search(
    model: type[Any], raw: str, fields: Sequence[str], param: str = "search"
) -> list[ColumnElement[bool]]:
    """Every term must match (icontains) at least one search field.

    Returns:
        One condition per term, to be AND'ed.
    """
    clauses: list[ColumnElement[bool]] = []
    if not fields:  # DRF: a view without search fields ignores `search`
        return clauses
    for term in search_terms(raw):
        try:
            parts = [
                compile_lookup(model, Lookup(tuple(path.split("__")), "icontains"), term, param)
                for path in fields
            ]
        except _BadValue as exc:
            raise QueryError.one(param, exc.msg, exc.kind) from None
        clauses.append(or_(*parts))
    return clauses
