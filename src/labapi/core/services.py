"""Generic model services: fetch by any identifier, get-or-create (nested objects too),
update, delete. Services never commit; they flush when they need ids or constraints.

A surface subclasses `ModelService` where a model derives fields (`derive`) or has more
to do; the resource spec hands its service to the generated routes.
"""

from collections.abc import Collection, Sequence
from typing import Any, ClassVar

from sqlalchemy import BigInteger, SmallInteger, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from labapi.core.errors import Conflict, ErrorItem, NotFound, ValidationFailed
from labapi.core.models import Base, utcnow

IDENTIFIER_FIELDS = ("system_id", "identifier", "name", "slug", "username", "email")
NOT_FOUND = "Object not found try a different ID: {ident!r} matches no {model}"


def pk_fits(model: Any, value: int) -> bool:
    """Whether `value` fits the model's integer primary key. A larger one names no row;
    sent to PostgreSQL it would be a driver error (asyncpg refuses to encode it), a 500."""
    type_ = model.__mapper__.primary_key[0].type
    bits = 64 if isinstance(type_, BigInteger) else 16 if isinstance(type_, SmallInteger) else 32
    return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)


class ModelService:
    """Reads and writes one model; `relations` maps a body field to the related service."""

    # Body fields that name another object: to-one as {pk}/{key...}/pk, to-many as lists.
    relations: ClassVar[dict[str, "ModelService"]] = {}
    # Relationships rendered in the representation, loaded with selectinload.
    load: ClassVar[tuple[str, ...]] = ()
    # Fields set at creation only: an update that would change them is a 400.
    create_only: ClassVar[tuple[str, ...]] = ()
    # Fields the server makes (ids, stamps, slugs): ignored in update bodies, as DRF
    # ignores read-only fields, so a client may PUT back the representation it read.
    read_only: ClassVar[tuple[str, ...]] = ("id",)
    # A bare string in a body names the object by this field (`"tags": ["a"]`).
    scalar_field: ClassVar[str] = "name"
    # Nested references that must exist already (a user named by `created_by`).
    lookup_only: ClassVar[bool] = False

    def __init__(self, model: type[Base]) -> None:
        self.model = model

    # ----------------------------------------------------------------- reading
    def options(self, *, detail: bool = False) -> list[_AbstractLoad]:
        """Loader options that fetch everything the representation shows, N+1 free
        (`detail`: the detail representation's, where a surface has one).

        The relations of the listed objects are each one SELECT … IN, so the statement
        that filters, orders and pages stays a plain one the planner handles well (a
        dozen LEFT JOINs in it cost seconds of planning and joining before the LIMIT);
        inside those loads, nested to-one relations are joined (sample → individual →
        center in one statement). Either way the number of statements is fixed, whatever
        the number of rows. Built once per service: loader options are immutable.
        """
        cached: list[_AbstractLoad] | None = self.__dict__.get("_options")
        if cached is None:
            cached = self.__dict__["_options"] = self._build_options(nested=False)
        return list(cached)

    def _build_options(self, *, nested: bool) -> list[_AbstractLoad]:
        options: list[_AbstractLoad] = []
        for name in self.load:
            attribute = getattr(self.model, name)
            joined = nested and not attribute.property.uselist
            option = (joinedload if joined else selectinload)(attribute)
            service = self.relations.get(name)
            if service is not None and service.load:
                option = option.options(*service._build_options(nested=True))
            options.append(option)
        return options

    def identifier_columns(self) -> list[Any]:
        """The columns a detail path may name the object by, besides its pk."""
        return [
            getattr(self.model, name) for name in IDENTIFIER_FIELDS if hasattr(self.model, name)
        ]

    def ident_lookup(self, ident: str) -> tuple[list[str], Any]:
        """The columns a detail path's id is looked up in, and the value: the pk for
        digits, else every identifier column; NotFound when nothing could match."""
        missing = NotFound(NOT_FOUND.format(ident=ident, model=self.model.__name__))
        if "\x00" in ident:  # PostgreSQL refuses NUL in text: no object has one
            raise missing
        # ASCII digits only: `str.isdigit` also accepts "²", which `int` refuses.
        if ident.isascii() and ident.isdigit():
            if not pk_fits(self.model, int(ident)):
                raise missing
            return [str(self.model.__mapper__.primary_key[0].key)], int(ident)
        columns = [column.key for column in self.identifier_columns()]
        if not columns:
            raise missing
        return columns, ident

    def ident_criteria(self, ident: str) -> list[Any]:
        """The WHERE clause of a detail path's id (`ident_lookup`)."""
        columns, value = self.ident_lookup(ident)
        return [or_(*(getattr(self.model, name) == value for name in columns))]

    async def get(self, *, session: AsyncSession, ident: str) -> Any:
        """Fetch by pk (digits) or any identifier column; 404 unless exactly one matches.

        The object is read afresh (`populate_existing`): a session that already holds it
        may hold stale collections (a tag deleted since, with its link rows).
        """
        stmt = (
            select(self.model)
            .options(*self.options())
            .execution_options(populate_existing=True)
            .where(*self.ident_criteria(ident))
            .limit(2)
        )
        found = (await session.scalars(stmt)).all()
        if len(found) != 1:
            raise NotFound(NOT_FOUND.format(ident=ident, model=self.model.__name__))
        return found[0]

    async def reload(self, *, session: AsyncSession, obj: Any, detail: bool = False) -> Any:
        """The object again with its representation loaded (after a write)."""
        stmt = (
            select(self.model)
            .where(self.model.id == obj.id)  # type: ignore[attr-defined]
            .options(*self.options(detail=detail))
            .execution_options(populate_existing=True)
        )
        return (await session.scalars(stmt)).one()

    # ----------------------------------------------------------------- writing
    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """Fields computed from others (slugs, categories); `obj` is None on create."""
        return values

    def key(self) -> Sequence[str]:
        """The unique-together key get-or-create matches on (empty: always new)."""
        return getattr(self.model, "get_or_create_key", ())

    async def resolve_relations(
        self,
        *,
        session: AsyncSession,
        values: dict[str, Any],
        loc: tuple[str | int, ...],
        only: Collection[str] | None = None,
        created_by: Any | None = None,
    ) -> dict[str, Any]:
        """Replace nested bodies by objects (get-or-create), lists by lists of objects.

        `only` limits the work to some relations; the others are left as they are. A null
        member of the key stays null (NULL matches NULL); other nulls are dropped.
        """
        resolved = dict(values)
        for name, service in self.relations.items():
            if name not in values or (only is not None and name not in only):
                continue
            if values[name] in (None, ""):
                if values[name] is None and name in self.key():
                    continue
                resolved.pop(name)
                continue
            value = values[name]
            if isinstance(value, list):
                items = [
                    (
                        await service.get_or_create(
                            session=session, data=item, loc=(*loc, name, i), created_by=created_by
                        )
                    )[0]
                    for i, item in enumerate(value)
                ]
                resolved[name] = list({id(item): item for item in items}.values())
            else:
                resolved[name] = (
                    await service.get_or_create(
                        session=session, data=value, loc=(*loc, name), created_by=created_by
                    )
                )[0]
        return resolved

    async def find(self, *, session: AsyncSession, values: dict[str, Any]) -> Any | None:
        """The existing object with the same unique-together key (NULL matches NULL)."""
        key = self.key()
        if not key or any(name not in values for name in key):
            return None
        conditions = []
        relationships = self.model.__mapper__.relationships
        for name in key:
            column, value = getattr(self.model, name), values[name]
            if name in relationships:
                column = getattr(self.model, f"{name}_id")
                value = None if value is None else value.id
            conditions.append(column.is_(None) if value is None else column == value)
        stmt = select(self.model).where(*conditions).options(*self.options())
        return (await session.scalars(stmt)).first()

    def writable(self, values: dict[str, Any]) -> dict[str, Any]:
        """Only the keys that are mapped attributes of the model; a null sent for a
        non-nullable column with a default means that default (`"custom_fields": null`)."""
        mapper = self.model.__mapper__
        kept: dict[str, Any] = {}
        for name, value in values.items():
            if name not in mapper.attrs:
                continue
            column = mapper.columns.get(name)
            if value is None and column is not None and not column.nullable:
                if column.default is not None:
                    continue
            kept[name] = value
        return kept

    def _coerce_input(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            return dict(data)
        if hasattr(data, "model_dump"):
            # Declared fields only: a schema that keeps unknown keys (for create-only
            # checks) must not let `created` or `submitted` through to the model.
            declared = type(data).model_fields
            dumped = data.model_dump(exclude_unset=True)
            return {key: value for key, value in dumped.items() if key in declared}
        if isinstance(data, int):
            return {"pk": data}
        return {self.scalar_field: data}

    async def get_or_create(
        self,
        *,
        session: AsyncSession,
        data: Any,
        loc: tuple[str | int, ...] = ("body",),
        created_by: Any | None = None,
    ) -> tuple[Any, bool]:
        """Return `(object, created)`: matched by pk, else by unique key, else created.

        Two identical requests racing each other create one row: the loser's insert
        fails on the unique key inside a savepoint and it returns the winner's row.
        """
        values = self._coerce_input(data)
        pk = values.pop("pk", None)
        if pk is not None:
            fits = isinstance(pk, int) and pk_fits(self.model, pk)
            found = await session.get(self.model, pk, options=self.options()) if fits else None
            if found is None:
                raise ValidationFailed(
                    f"no {self.model.__name__} with pk {pk}",
                    [
                        ErrorItem(
                            (*loc, "pk"), f"no {self.model.__name__} with pk {pk}", "not_found"
                        )
                    ],
                )
            return found, False
        if self.lookup_only:
            return await self._lookup(session=session, values=values, loc=loc), False
        # Only the key's relations are resolved before the match: an existing object is
        # returned as it is, without creating the other nested objects of the body.
        key = set(self.key())
        values = self.writable(values)
        values = await self.resolve_relations(
            session=session,
            values=values,
            loc=loc,
            only=key & set(self.relations),
            created_by=created_by,
        )
        values = self.derive(values, None)
        existing = await self.find(session=session, values=values)
        if existing is not None:
            return existing, False
        values = await self.resolve_relations(
            session=session,
            values=values,
            loc=loc,
            only=set(self.relations) - key,
            created_by=created_by,
        )
        if created_by is not None and hasattr(self.model, "created_by"):
            values.setdefault("created_by", created_by)
        await self.check(session=session, values=values, obj=None, loc=loc)
        obj = self.model(**values)
        try:
            async with session.begin_nested():
                session.add(obj)
                await session.flush()
                await self.after_create(session=session, obj=obj)
        except IntegrityError as exc:
            existing = await self.find(session=session, values=values)
            if existing is not None:
                return existing, False
            raise Conflict(
                f"this {self.model.__name__} clashes with a stored one: {exc.orig}"
            ) from None
        return await self.reload(session=session, obj=obj), True

    async def check(
        self,
        *,
        session: AsyncSession,
        values: dict[str, Any],
        obj: Any | None,
        loc: tuple[str | int, ...],
    ) -> None:
        """Validation that needs the database (a 400 raised here writes nothing); `obj` is
        None on create. The default checks nothing."""

    async def after_create(self, *, session: AsyncSession, obj: Any) -> None:
        """Work that needs the new row's id (system ids), inside the creating savepoint;
        an override flushes what it changes."""

    async def _lookup(
        self, *, session: AsyncSession, values: dict[str, Any], loc: tuple[str | int, ...]
    ) -> Any:
        value = values.get(self.scalar_field)
        stmt = select(self.model).where(getattr(self.model, self.scalar_field) == value)
        found = (await session.scalars(stmt)).first()
        if found is None:
            msg = f"no {self.model.__name__} with {self.scalar_field} {value!r}"
            raise ValidationFailed(msg, [ErrorItem(loc, msg, "not_found")])
        return found

    def check_create_only(self, obj: Any, values: dict[str, Any]) -> None:
        """A 400 for every create-only field the update would change."""
        errors = [
            ErrorItem(
                ("body", name), f"'{name}' is set at creation and cannot change", "create_only"
            )
            for name in self.create_only
            if name in values and values[name] != getattr(obj, name)
        ]
        if errors:
            raise ValidationFailed("some fields cannot be changed after creation", errors)

    def check_actor(self, *, actor: Any | None, obj: Any, action: str) -> None:
        """Refuse a change this actor may not make to this object (beyond model
        permissions); the default allows everything."""

    async def update(
        self,
        *,
        session: AsyncSession,
        obj: Any,
        data: dict[str, Any],
        actor: Any | None = None,
        touch: bool = True,
    ) -> Any:
        """Set the given fields; JSON fields and to-many sets are replaced whole.

        `modified` moves on every update, as the reference's saves do; with `touch=False`
        only when a value really changes (a nested object sent back as it was read)."""
        self.check_actor(actor=actor, obj=obj, action="change")
        self.check_create_only(obj, data)
        ignored = {*self.create_only, *self.read_only}
        values = {k: v for k, v in self.writable(data).items() if k not in ignored}
        values = await self.resolve_relations(
            session=session, values=values, loc=("body",), created_by=actor
        )
        values = self.derive(values, obj)
        await self.check(session=session, values=values, obj=obj, loc=("body",))
        try:
            # The changes are made inside the savepoint (`begin_nested` flushes what is
            # pending first): a clash rolls back only them and the session stays usable.
            async with session.begin_nested():
                for name, value in values.items():
                    setattr(obj, name, value)
                if hasattr(obj, "modified") and (touch or session.is_modified(obj)):
                    obj.modified = utcnow()
                await session.flush()
        except IntegrityError as exc:
            raise Conflict(f"the update clashes with stored data: {exc.orig}") from None
        return await self.reload(session=session, obj=obj)

    async def delete(self, *, session: AsyncSession, obj: Any, actor: Any | None = None) -> None:
        """Delete; a 409 while other rows still reference the object."""
        self.check_actor(actor=actor, obj=obj, action="delete")
        try:
            async with session.begin_nested():
                await session.execute(
                    delete(self.model).where(self.model.id == obj.id)  # type: ignore[attr-defined]
                )
        except IntegrityError:
            raise Conflict(
                f"{self.model.__name__} {obj.id} is still referenced by other objects"
            ) from None
        session.expunge(obj)
