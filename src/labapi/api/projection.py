"""Read schemas compiled to SQL that builds their JSON in PostgreSQL (issue 8).

The ORM path loads a tree of objects (a statement per relation), validates it through
the read schema and dumps it: for a page of 100 nested experiments, ~25 statements and
~130 ms of Python. A *projection* is the same representation as one SQL expression:
`json_build_object` for an object, a correlated `json_agg` subquery for a to-many
relation, a scalar subquery for a to-one. The page, its nested objects and their order
come back as one JSON text.

The projection is derived from the read schema and the mapper, never written by hand, so
there is one representation. A schema the rules below cannot reproduce exactly — an
unmarked validator, a Python property, a model validator — compiles to nothing
(`compile_projection` returns None) and is served by the ORM path; a test compares both
paths on the same rows.

The rules, field by field (the field's validation alias names the attribute):

- `pk` is the primary key; `model_name` is the mapped class's name;
- a column (or a column property, or a hybrid's expression) is its value: datetimes in
  Pydantic's ISO form (`Z`, microseconds only when not zero), enums by name (their values
  must be their names), a `dict`/`list` field that is never null as `{}`/`[]` for NULL;
- a to-one relation shown as a schema is that schema's object (null when none); shown as
  a string, it is the related object's first identifier column (`created_by` → username,
  `core.services.IDENTIFIER_FIELDS`);
- a to-many relation shown as a list of schemas is their array, in the relation's
  `order_by` then pk order; shown as a `list[int]`, the related pks (at most the field's
  `max_length`).

Field validators must be marked `@projected` (they only repeat what the rules do, such as
NULL → `{}`); any other validator disables the projection of its schema.
"""

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from annotated_types import MaxLen
from pydantic import BaseModel
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    FromClause,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import MANYTOONE, ColumnProperty, Mapper, RelationshipProperty
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.sql.visitors import replacement_traverse

from labapi.core.services import IDENTIFIER_FIELDS

F = TypeVar("F", bound=Callable[..., Any])

EMPTY_OBJECT = text("'{}'::jsonb")
EMPTY_ARRAY = text("'[]'::json")


def constant(value: str) -> ColumnElement[str]:
    """A string written into the statement, not a bound parameter: the statement is the
    same on every execution, and a projection has hundreds of these (its keys)."""
    if "'" in value or "\\" in value:
        raise Unsupported(f"a quote in {value!r}")
    return literal_column(f"'{value}'", String)


def projected(func_: F) -> F:
    """Mark a field validator whose effect the projection rules reproduce (NULL → `{}`,
    a related object → its name, related objects → their pks)."""
    func_.__projected__ = True  # type: ignore[attr-defined]
    return func_


def inline(clause: Any) -> Any:
    """`clause` with its bound values rendered into the statement (a relation's extra
    criteria, such as `status IN (...)`): the projection's only parameter is its pks."""

    def literal_bind(element: Any) -> Any:
        return element.render_literal_execute() if isinstance(element, BindParameter) else None

    return replacement_traverse(clause, {}, literal_bind)


class Unsupported(Exception):
    """A field the projection cannot reproduce exactly."""


@dataclass(frozen=True)
class Shape:
    """A field's annotation, unwrapped: what kind of value, and whether null is allowed."""

    kind: type[Any] | None  # a BaseModel, dict, list, datetime, an Enum, or a scalar type
    item: Any = None  # the member type of a list
    nullable: bool = False


def _shape(annotation: Any) -> Shape:
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) != 1:
            raise Unsupported(f"a union of {members}")
        annotation = members[0]
        origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return Shape(list, item, nullable)
    if origin is dict:
        return Shape(dict, None, nullable)
    if annotation is Any:
        return Shape(None, None, True)
    if isinstance(annotation, type):
        return Shape(annotation, None, nullable)
    raise Unsupported(f"annotation {annotation!r}")


def _check_validators(schema: type[BaseModel]) -> None:
    decorators = schema.__pydantic_decorators__
    if decorators.model_validators or decorators.model_serializers:
        raise Unsupported(f"{schema.__name__} has a model validator")
    if decorators.field_serializers or decorators.computed_fields:
        raise Unsupported(f"{schema.__name__} has serializers or computed fields")
    for name, decorator in decorators.field_validators.items():
        if not getattr(decorator.func, "__projected__", False):
            raise Unsupported(f"{schema.__name__}.{name} is not a @projected validator")


def iso_datetime(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamptz as Pydantic writes it: `2020-01-01T00:00:00Z`, `….000120Z` (one
    `to_char`, then whole seconds lose their `.000000`)."""
    utc = func.timezone(constant("UTC"), value)
    iso = func.to_char(utc, constant('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    return func.replace(iso, constant(".000000Z"), constant("Z"))


def _enum_ok(enum_cls: type[enum.Enum]) -> None:
    if any(member.name != member.value for member in enum_cls):
        raise Unsupported(f"{enum_cls.__name__}: values differ from the stored names")


class Compiler:
    """Builds the projection of one read schema over one mapped class."""

    def __init__(self) -> None:
        self.depth = 0

    def object(
        self, schema: type[BaseModel], mapper: Mapper[Any], source: FromClause
    ) -> ColumnElement[Any]:
        """`json_build_object(...)` of the schema's fields over `source` (an alias of the
        mapper's table, correlated from the enclosing statement)."""
        _check_validators(schema)
        self.depth += 1
        if self.depth > 8:
            raise Unsupported("nesting deeper than 8")
        pairs: list[Any] = []
        for name, info in schema.model_fields.items():
            alias = info.validation_alias if isinstance(info.validation_alias, str) else name
            try:
                value = self.field(alias, info, mapper, source)
            except Unsupported as exc:
                raise Unsupported(f"{schema.__name__}.{name}: {exc}") from None
            pairs += [constant(name), value]
        self.depth -= 1
        return func.json_build_object(*pairs)

    def field(self, name: str, info: Any, mapper: Mapper[Any], source: FromClause) -> Any:
        shape = _shape(info.annotation)
        if name == "pk":
            return source.c[mapper.primary_key[0].key]
        if name == "model_name":
            return constant(mapper.class_.__name__)
        prop = mapper.attrs.get(name)
        if isinstance(prop, RelationshipProperty):
            return self.relation(prop, shape, info, source)
        if isinstance(prop, ColumnProperty):
            expr = prop.expression
        else:
            descriptor = mapper.all_orm_descriptors.get(name)
            if not isinstance(descriptor, hybrid_property) or descriptor.expr is None:
                raise Unsupported("not a column, relation or hybrid property")
            expr = getattr(mapper.class_, name).expression
        return self.value(ClauseAdapter(source).traverse(expr), shape, info)

    def value(self, expr: Any, shape: Shape, info: Any) -> Any:
        kind = shape.kind
        if kind is dt.datetime:
            return iso_datetime(expr)
        if kind is dt.date or kind is dt.time or kind is float or kind is bool:
            return expr
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            _enum_ok(kind)
            return expr
        if kind in (dict, list) and not shape.nullable:
            default = info.get_default(call_default_factory=True)
            if default == {}:
                return func.coalesce(expr, EMPTY_OBJECT)
            if default == []:
                return func.coalesce(expr, cast(EMPTY_ARRAY, JSONB))
            raise Unsupported("a never-null JSON field without an empty default")
        if kind in (int, str, dict, list, None) or (
            isinstance(kind, type) and kind.__name__ == "UUID"
        ):
            return expr
        raise Unsupported(f"values of type {kind!r}")

    def relation(
        self, prop: RelationshipProperty[Any], shape: Shape, info: Any, source: FromClause
    ) -> ColumnElement[Any]:
        target: Mapper[Any] = prop.mapper
        related = target.local_table.alias()
        secondary = prop.secondary.alias() if prop.secondary is not None else None
        froms, where = self._join(prop, source, related, secondary)
        order = [ClauseAdapter(related).traverse(c) for c in (prop.order_by or ())]
        if secondary is not None:
            order = [ClauseAdapter(secondary).traverse(c) for c in order]
        order.append(related.c[target.primary_key[0].key])
        if not prop.uselist:
            if isinstance(shape.kind, type) and issubclass(shape.kind, BaseModel):
                value: Any = self.object(shape.kind, target, related)
            elif shape.kind is str:
                value = self._label(target, related)
            else:
                raise Unsupported("a to-one relation shown as neither an object nor a name")
            one = select(value).select_from(*froms).where(where).correlate(source)
            if prop.direction is not MANYTOONE:  # a many-to-one names one row by its key
                one = one.limit(literal_column("1"))
            return one.scalar_subquery()
        if shape.kind is not list:
            raise Unsupported("a to-many relation shown as other than a list")
        if isinstance(shape.item, type) and issubclass(shape.item, BaseModel):
            item = self.object(shape.item, target, related)
            agg = func.json_agg(aggregate_order_by(item, *order))
            return (
                select(func.coalesce(agg, EMPTY_ARRAY))
                .select_from(*froms)
                .where(where)
                .correlate(source)
                .scalar_subquery()
            )
        if shape.item is int:
            cap = next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)
            pk = related.c[target.primary_key[0].key]
            rows = select(pk).select_from(*froms).where(where).order_by(*order)
            if cap is not None:
                rows = rows.limit(literal_column(str(cap)))
            # ARRAY(SELECT …) keeps the rows' order and, unlike a derived table, sees
            # the enclosing row.
            return func.to_json(func.array(rows.correlate(source).scalar_subquery()))
        raise Unsupported(f"a list of {shape.item!r}")

    def _label(self, target: Mapper[Any], related: FromClause) -> Any:
        # Named by its first identifier column, as a detail path names it.
        for column in IDENTIFIER_FIELDS:
            if column in target.columns:
                return related.c[target.columns[column].key]
        raise Unsupported(f"{target.class_.__name__} has no label column")

    def _join(
        self,
        prop: RelationshipProperty[Any],
        source: FromClause,
        related: FromClause,
        secondary: FromClause | None,
    ) -> tuple[list[FromClause], ColumnElement[bool]]:
        """The FROM list and the condition that correlate a relation's rows with `source`.

        Through a secondary table, the primary join names only the parent and the link
        table, the secondary join only the link and the target: each is adapted to the
        aliases unambiguously, self-references included. Without one, the local/remote
        pairs give the condition (a self-reference names one table on both sides)."""
        if secondary is not None and prop.secondaryjoin is not None:
            primary = ClauseAdapter(source).traverse(prop.primaryjoin)
            primary = ClauseAdapter(secondary).traverse(primary)
            joined = ClauseAdapter(secondary).traverse(prop.secondaryjoin)
            joined = ClauseAdapter(related).traverse(joined)
            return [related.join(secondary, inline(joined))], inline(primary)
        clauses = []
        for local, remote in prop.local_remote_pairs or ():
            clauses.append(source.c[local.key] == related.c[remote.key])
        if not clauses:
            raise Unsupported("a relation without local/remote pairs")
        return [related], and_(*clauses)


class Projection:
    """The JSON array of a schema's objects, by pk, in one prepared statement.

    The statement is built once: the pks are its only parameter (`unnest(:pks) WITH
    ORDINALITY` keeps their order), so SQLAlchemy compiles it once and PostgreSQL plans
    it once per connection. The page's pks come from the list's own statement, which
    filters, orders and pages as the ORM path does."""

    def __init__(self, schema: type[BaseModel], model: type[Any]) -> None:
        self.schema = schema
        self.mapper: Mapper[Any] = sa_inspect(model)
        # Raises Unsupported before anything else is built.
        self.statement = self._statement(bindparam("pks", type_=ARRAY(BigInteger)))
        self._lookups: dict[tuple[Any, ...], Any] = {}

    def _statement(self, pks: Any) -> Any:
        source = self.mapper.local_table.alias()
        obj = Compiler().object(self.schema, self.mapper, source)
        ordinals = func.unnest(pks).table_valued("pk", with_ordinality="n").render_derived()
        agg = func.json_agg(aggregate_order_by(obj, ordinals.c.n))
        pk = source.c[self.mapper.primary_key[0].key]
        return select(cast(func.coalesce(agg, EMPTY_ARRAY), String)).select_from(
            ordinals.join(source, pk == ordinals.c.pk)
        )

    async def render(self, session: AsyncSession, pks: Sequence[int]) -> Any:
        """The JSON array of the objects of `pks`, in that order (missing ones left out),
        as an `orjson.Fragment` that orjson writes into the envelope as it is.

        Only a run of 19 digits or more is read back first (`exact`): PostgreSQL prints
        a stored 1.2e29 as a 30-digit integer, which the ORM path's reader turns into the
        float it was (an integer past 64 bits cannot be rendered). Shorter numbers mean
        the same double or integer to every reader whichever way they are printed."""
        if not pks:
            return []
        raw = await session.scalar(self.statement, {"pks": list(pks)})
        return exact(raw.encode()) if raw else []

    async def find(
        self, session: AsyncSession, columns: Sequence[str], value: Any, fixed: dict[str, Any]
    ) -> list[Any]:
        """The objects whose `columns` (any of them) equal `value` and whose `fixed`
        columns hold their values, at most two (a detail path wants exactly one): the
        lookup and the projection in one statement, built once per set of columns."""
        key = (tuple(columns), tuple(sorted(fixed.items())))
        statement = self._lookups.get(key)
        if statement is None:
            column = self.mapper.columns  # by attribute name
            wanted = bindparam("ident", type_=column[columns[0]].type)
            found = (
                select(self.mapper.primary_key[0])
                .where(or_(*(column[name] == wanted for name in columns)))
                .where(*(column[name] == fixed_value for name, fixed_value in fixed.items()))
                .limit(literal_column("2"))
            )
            statement = self._lookups[key] = self._statement(func.array(found.scalar_subquery()))
        raw = await session.scalar(statement, {"ident": value})
        return orjson.loads(raw) if raw else []


# 19 digits in a row: past every int64 and every double's exact digits. Found by mapping
# every digit to "0" and the rest to " " (a regular expression is ten times slower).
DIGITS_ONLY = bytes(b"0"[0] if b"0"[0] <= byte <= b"9"[0] else b" "[0] for byte in range(256))
LONG_DIGITS = b"0" * 19


def exact(raw: bytes) -> Any:
    """JSON text from PostgreSQL as orjson would render it: as it is unless it holds a
    number orjson prints otherwise (read and written again then)."""
    if LONG_DIGITS in raw.translate(DIGITS_ONLY):
        return orjson.loads(raw)
    return orjson.Fragment(raw)


def compile_projection(schema: type[BaseModel], model: type[Any]) -> Projection | None:
    """The projection of `schema` over `model`, or None when it cannot be exact."""
    try:
        return Projection(schema, model)
    except Unsupported:
        return None
