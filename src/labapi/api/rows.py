"""Flat rows: the values a representation computed in Python reads, by attribute path,
loaded from ORM objects or by a fixed number of plain SQL statements (issue 8).

Some representations cannot be SQL (`api/projection.py` compiles none of them): the
facility's substock derives its age class from today's date and the species' settings,
its css classes and labels from several relations. Built from an ORM object graph, a page
of them costs a statement per relation and most of its time in the ORM. A `View` names
what such a representation reads, once, as attribute paths over a model:

- `count`, `sex.name`, `stock.fishline.species.settings`: a column (or column property)
  of the model or of an object reached through to-one relations; None when a relation
  on the way is empty;
- `project`: a to-one relation itself: the related object's public columns as a dict,
  or None;
- `tags`, `stock.fishline.owners`: a to-many relation: a list of dicts, each what the
  relation's item view (`items`, by default the target's public columns) reads of one
  related object, in the relation's `order_by` then primary key order.

From the view come both readers, so they cannot drift apart: `from_object` walks an ORM
object (its relations loaded with `loader_options`), `load` selects the same values,
every to-one hop an outer join, then each to-many path in one more statement for all the
rows at once. The representation is then one Python function of the resulting dict, the
same for both. Datetimes are written as Pydantic writes them (`…Z`), so the dicts are
ready for orjson.

`load` takes the primary keys of a page (the statement that filters, orders and pages
stays a plain one): its joins start from those rows only. Its statements are built once
and take the keys as one parameter, so PostgreSQL plans each once per connection; they
run on both databases.
"""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Select, any_, bindparam, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    ColumnProperty,
    Mapper,
    RelationshipProperty,
    aliased,
    selectinload,
)
from sqlalchemy.orm.strategy_options import _AbstractLoad

from labapi.core.models import UTCDateTime


def public_columns(model: type[Any]) -> list[tuple[str, Any]]:
    """(name, SQL column or expression) of every public mapped column, declared order
    (secret columns, such as password hashes, are never rendered nor written)."""
    return [
        (prop.key, prop.columns[0])
        for prop in sa_inspect(model).column_attrs
        if not getattr(prop.columns[0], "info", {}).get("secret")
    ]


def iso_datetime(value: dt.datetime | None) -> str | None:
    """A datetime as Pydantic writes it in JSON: ISO 8601, UTC as `Z`."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True)
class View:
    """What a representation reads of one model: attribute paths (module docstring)."""

    model: type[Any]
    paths: tuple[str, ...]
    # The item views of to-many paths; a path not listed reads the public columns.
    items: Mapping[str, "View"] = field(default_factory=dict)

    def extend(self, paths: Sequence[str], items: Mapping[str, "View"] | None = None) -> "View":
        """This view and more paths (a detail representation over a simple one)."""
        return View(self.model, (*self.paths, *paths), {**self.items, **(items or {})})

    @cached_property
    def plan(self) -> "_Plan":
        """The view resolved against its mapper, once (paths checked, statements cached)."""
        return _Plan(self)

    def from_object(self, obj: Any) -> dict[str, Any]:
        """The view's values of one ORM object."""
        return self.plan.from_object(obj)

    async def load(self, session: AsyncSession, pks: Sequence[Any]) -> list[dict[str, Any]]:
        """The view's values of the objects with primary keys `pks`, in that order
        (missing ones left out): one statement, and one per to-many path."""
        if not pks:
            return []
        found = dict(await self.plan.fetch(session, pks))
        return [found[pk] for pk in pks if pk in found]

    def loader_options(self) -> list[_AbstractLoad]:
        """`selectinload` options that load every relation the view reads (built once:
        loader options are immutable)."""
        return list(self._loader_options)

    @cached_property
    def _loader_options(self) -> tuple[_AbstractLoad, ...]:
        return tuple(self.plan.options(None))


@cache
def flat(model: type[Any]) -> View:
    """The view of an object shown by its public columns."""
    return View(model, tuple(name for name, _ in public_columns(model)))


def _convert(prop: ColumnProperty[Any]) -> Callable[[Any], Any] | None:
    return iso_datetime if isinstance(prop.columns[0].type, UTCDateTime) else None


@dataclass
class _Scalar:
    path: str
    hops: tuple[RelationshipProperty[Any], ...]
    key: str
    convert: Callable[[Any], Any] | None


@dataclass
class _Nested:
    """A to-one object (its public columns) or a to-many list (its item view)."""

    path: str
    hops: tuple[RelationshipProperty[Any], ...]
    relation: RelationshipProperty[Any]
    plan: "_Plan"


def _resolve(mapper: Mapper[Any], path: str) -> tuple[tuple[RelationshipProperty[Any], ...], Any]:
    """The to-one hops of `path` and the property it ends on."""
    names = path.split(".")
    hops: list[RelationshipProperty[Any]] = []
    for name in names[:-1]:
        prop = mapper.attrs[name]
        if not isinstance(prop, RelationshipProperty) or prop.uselist:
            raise ValueError(f"{path}: {name} is not a to-one relation")
        hops.append(prop)
        mapper = prop.mapper
    return tuple(hops), mapper.attrs[names[-1]]


def _getter(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The values at `positions` of a row, as a tuple (however many there are)."""
    if not positions:
        return lambda row: ()
    if len(positions) == 1:
        (only,) = positions
        return lambda row: (row[only],)
    return itemgetter(*positions)


@dataclass(frozen=True)
class _Statement:
    """A plan's statement and where its values are in a row."""

    statement: Select[Any]
    scalars: Callable[[Sequence[Any]], tuple[Any, ...]]
    objects: list[Callable[[Sequence[Any]], tuple[Any, ...]]]
    owners: list[int]


def _local_key(relation: RelationshipProperty[Any]) -> str:
    """The attribute of a to-many relation's parent that its items point at (its pk)."""
    ((local, _), *_) = relation.local_remote_pairs or ()
    return str(relation.parent.get_property_by_column(local).key)


def _walk(obj: Any, hops: Sequence[RelationshipProperty[Any]]) -> Any:
    for hop in hops:
        if obj is None:
            return None
        obj = getattr(obj, hop.key)
    return obj


class _Plan:
    """A view resolved against its mapper: how to read it from objects and from rows."""

    def __init__(self, view: View) -> None:
        mapper: Mapper[Any] = sa_inspect(view.model)
        self.view, self.mapper = view, mapper
        self.pk = self._attr(mapper.primary_key[0])  # the primary key's attribute
        self.scalars: list[_Scalar] = []
        self.objects: list[_Nested] = []
        self.lists: list[_Nested] = []
        for path in view.paths:
            hops, prop = _resolve(mapper, path)
            if isinstance(prop, ColumnProperty):
                self.scalars.append(_Scalar(path, hops, prop.key, _convert(prop)))
            elif prop.uselist:
                item = view.items.get(path) or flat(prop.mapper.class_)
                self.lists.append(_Nested(path, hops, prop, item.plan))
            else:
                self.objects.append(_Nested(path, hops, prop, flat(prop.mapper.class_).plan))
        self._statements: dict[tuple[Any, bool], _Statement] = {}

    # ------------------------------------------------------------------ objects
    def from_object(self, obj: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for scalar in self.scalars:
            owner = _walk(obj, scalar.hops)
            value = getattr(owner, scalar.key) if owner is not None else None
            if scalar.convert is not None:
                value = scalar.convert(value)
            values[scalar.path] = value
        for nested in self.objects:
            related = _walk(obj, (*nested.hops, nested.relation))
            values[nested.path] = nested.plan.from_object(related) if related is not None else None
        for nested in self.lists:
            owner = _walk(obj, nested.hops)
            related = getattr(owner, nested.relation.key) if owner is not None else []
            values[nested.path] = [nested.plan.from_object(item) for item in related]
        return values

    def options(self, parent: Any) -> list[_AbstractLoad]:
        """Loader options, chained from `parent` (None: the root), for every relation
        read; chains sharing a prefix load it once."""
        chains = {scalar.hops for scalar in self.scalars if scalar.hops}
        chains |= {(*nested.hops, nested.relation) for nested in (*self.objects, *self.lists)}
        built: dict[tuple[RelationshipProperty[Any], ...], Any] = {}
        for chain in sorted(chains, key=lambda hops: [hop.key for hop in hops]):
            option = parent
            for hop in chain:
                attribute = getattr(hop.parent.class_, hop.key)
                option = (
                    selectinload(attribute) if option is None else option.selectinload(attribute)
                )
            built[chain] = option
        options = list(built.values())
        for nested in self.lists:
            options += nested.plan.options(built[(*nested.hops, nested.relation)])
        return options

    # --------------------------------------------------------------------- rows
    def statement(self, key: RelationshipProperty[Any] | None, array: bool) -> "_Statement":
        """`SELECT key, <values> … WHERE key IN :keys`: the view's rows by primary key
        (`key` None), or as the items of the to-many relation `key` by their owner's.
        Built once per key, each column selected once. `array`: the keys are one array
        parameter (PostgreSQL's `= ANY`: one statement text whatever their number,
        nothing to expand), else an expanding IN."""
        cached = self._statements.get((key, array))
        if cached is not None:
            return cached
        if key is None:
            entity: Any = self.view.model
            owner_key: Any = getattr(entity, self.pk)
            stmt = select(owner_key)
        else:
            # The items of a to-many relation, by the key of the object they belong to.
            parent = aliased(key.parent.class_)
            entity = aliased(self.view.model)
            owner_key = getattr(parent, _local_key(key))
            stmt = select(owner_key).select_from(parent)
            stmt = stmt.join(getattr(parent, key.key).of_type(entity))
        joined: dict[tuple[str, ...], Any] = {(): entity}
        columns: list[Any] = [owner_key]
        positions: dict[tuple[int, str], int] = {}
        if key is None:
            positions[(id(entity), owner_key.key)] = 0

        def join(hops: Sequence[RelationshipProperty[Any]]) -> Any:
            nonlocal stmt
            target = entity
            for i, hop in enumerate(hops):
                prefix = tuple(h.key for h in hops[: i + 1])
                if prefix not in joined:
                    alias = aliased(hop.mapper.class_)
                    stmt = stmt.outerjoin(alias, getattr(target, hop.key).of_type(alias))
                    joined[prefix] = alias
                target = joined[prefix]
            return target

        def position(owner: Any, attr: str) -> int:
            found = positions.get((id(owner), attr))
            if found is None:
                found = positions[(id(owner), attr)] = len(columns)
                columns.append(getattr(owner, attr))
            return found

        scalars = [position(join(scalar.hops), scalar.key) for scalar in self.scalars]
        objects = []
        for nested in self.objects:
            related = join((*nested.hops, nested.relation))
            objects.append([position(related, scalar.key) for scalar in nested.plan.scalars])
        owners = [position(join(nested.hops), _local_key(nested.relation)) for nested in self.lists]
        if array:
            wanted = owner_key == any_(bindparam("keys", type_=ARRAY(owner_key.type)))
        else:
            wanted = owner_key.in_(bindparam("keys", expanding=True))
        stmt = stmt.add_columns(*columns[1:]).where(wanted)
        if key is not None:
            order = [getattr(entity, self._attr(c)) for c in key.order_by or ()]
            stmt = stmt.order_by(*order, getattr(entity, self.pk))
        built = _Statement(stmt, _getter(scalars), [_getter(o) for o in objects], owners)
        self._statements[(key, array)] = built
        return built

    def _attr(self, column: Any) -> str:
        return self.mapper.get_property_by_column(column).key

    async def fetch(
        self,
        session: AsyncSession,
        keys: Sequence[Any],
        key: RelationshipProperty[Any] | None = None,
    ) -> list[tuple[Any, dict[str, Any]]]:
        """(key, values) of the rows whose key is in `keys` (`statement`), in order.

        Executed on the session's connection: the rows are plain tuples, without the
        ORM's result machinery (nothing here is an ORM object)."""
        built = self.statement(key, session.get_bind().dialect.name == "postgresql")
        connection = await session.connection()
        rows = (await connection.execute(built.statement, {"keys": list(keys)})).all()
        paths = [scalar.path for scalar in self.scalars]
        converted = [(s.path, s.convert) for s in self.scalars if s.convert is not None]
        found: list[tuple[Any, dict[str, Any]]] = []
        for row in rows:
            values = dict(zip(paths, built.scalars(row), strict=True))
            for path, convert in converted:
                values[path] = convert(values[path])
            for nested, getter in zip(self.objects, built.objects, strict=True):
                values[nested.path] = nested.plan.row_values(getter(row))
            found.append((row[0], values))
        for nested, index in zip(self.lists, built.owners, strict=True):
            owners = [row[index] for row in rows]
            wanted = sorted({owner for owner in owners if owner is not None})
            groups: dict[Any, list[dict[str, Any]]] = {}
            if wanted:
                items = await nested.plan.fetch(session, wanted, nested.relation)
                for owner, item in items:
                    groups.setdefault(owner, []).append(item)
            for (_, values), owner in zip(found, owners, strict=True):
                values[nested.path] = groups.get(owner, [])
        return found

    def row_values(self, part: Sequence[Any]) -> dict[str, Any] | None:
        """A to-one object's values from its columns of a row (None: no such object)."""
        values = {scalar.path: value for scalar, value in zip(self.scalars, part, strict=True)}
        if values.get(self.pk) is None:
            return None
        for scalar in self.scalars:
            if scalar.convert is not None:
                values[scalar.path] = scalar.convert(values[scalar.path])
        return values


@dataclass(frozen=True)
class Rows:
    """A representation computed in Python (`derive`) from a view's values: of ORM
    objects, or of primary keys by `load` (the interface of a `Projection`)."""

    view: View
    derive: Callable[[dict[str, Any]], dict[str, Any]]

    def from_objects(self, objs: Sequence[Any]) -> list[dict[str, Any]]:
        """The representations of ORM objects whose relations the view's options loaded."""
        return [self.derive(self.view.from_object(obj)) for obj in objs]

    async def render(self, session: AsyncSession, pks: Sequence[Any]) -> list[dict[str, Any]]:
        """The representations of the objects with primary keys `pks`, in that order."""
        return [self.derive(values) for values in await self.view.load(session, pks)]

    async def find(
        self, session: AsyncSession, columns: Sequence[str], value: Any, fixed: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The objects whose `columns` (attribute names, any of them) equal `value` and
        whose `fixed` columns hold their values, at most two (a detail path wants one)."""
        mapper: Mapper[Any] = sa_inspect(self.view.model)
        column = mapper.columns  # by attribute name
        found = (
            select(mapper.primary_key[0])
            .where(or_(*(column[name] == value for name in columns)))
            .where(*(column[name] == fixed_value for name, fixed_value in fixed.items()))
            .limit(2)
        )
        return await self.render(session, list((await session.scalars(found)).all()))
