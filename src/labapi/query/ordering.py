"""Ordering: `ordering=a,-b` (Isabl) and `o=a,-b` (facility) to ORDER BY.

Related to-one paths are outer-joined once per path prefix (rows never repeat), to-many
paths are refused, NULLs sort last ascending and first descending on both databases (as on
PostgreSQL), and the primary key is always the final tiebreaker.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from labapi.core.errors import ErrorItem, QueryError
from labapi.query.compile import shortcut_foreign_key
from labapi.query.operators import datetime_part, json_text
from labapi.query.resolve import Kind, resolve


def parse_ordering(raw: str) -> list[tuple[str, bool]]:
    """`-count,name` to `[("count", True), ("name", False)]` (descending flag)."""
    fields: list[tuple[str, bool]] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        fields.append((item.lstrip("-+"), descending))
    return fields


def apply_ordering(
    stmt: Select[Any],
    model: type[Any],
    raw: str | None,
    *,
    param: str,
    default: Sequence[str] = ("pk",),
    aliases: dict[str, str] | None = None,
) -> Select[Any]:
    """Order `stmt` by `raw` (or the default ordering), ending with the primary key.

    Raises:
        QueryError: an unknown field, a to-many path or an operator in an ordering field.
    """
    items = parse_ordering(raw) if raw else []
    if not items:
        items = parse_ordering(",".join(default))
    joined: dict[tuple[str, ...], Any] = {}
    clauses: list[ColumnElement[Any]] = []
    errors: list[ErrorItem] = []
    pk_column = model.__mapper__.primary_key[0]
    pk_done = False
    for name, descending in items:
        path = tuple(name.split("__"))
        try:
            field = resolve(model, path, param, aliases)
        except QueryError as exc:
            errors.extend(
                ErrorItem(e.loc, f"cannot order by '{name}': {e.msg}", "invalid_ordering")
                for e in exc.errors
            )
            continue
        if any(hop.to_many for hop in field.hops):
            errors.append(
                ErrorItem(
                    ("query", param),
                    f"cannot order by '{name}': it crosses a to-many relation",
                    "invalid_ordering",
                )
            )
            continue
        hops, column = shortcut_foreign_key(field)
        entity: Any = model
        prefix: tuple[str, ...] = ()
        for hop in hops:
            prefix = (*prefix, hop.attr.key)
            if prefix not in joined:
                target = aliased(hop.prop.mapper.class_)
                stmt = stmt.outerjoin(target, getattr(entity, hop.attr.key).of_type(target))
                joined[prefix] = target
            entity = joined[prefix]
        expr: Any = getattr(entity, column.key)
        if field.kind is Kind.JSON:
            expr = json_text(expr, field.json_path)
        elif field.transform is not None:
            expr = datetime_part(expr, field.transform, field.kind is Kind.DATE)
        if not hops and column.property.columns[0] is pk_column and field.transform is None:
            pk_done = True
        clauses.append(expr.desc().nulls_first() if descending else expr.asc().nulls_last())
    if errors:
        raise QueryError(errors)
    if not pk_done:
        clauses.append(getattr(model, model.__mapper__.get_property_by_column(pk_column).key))
    return stmt.order_by(*clauses)
