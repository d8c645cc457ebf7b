"""Services of the facility resources: plain creates (no get-or-create), references
checked before writing (400, not a 409 from the database), soft deletes, and one
action-log record (`Input`) for every write."""

import datetime as dt
from collections.abc import Iterable
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from labapi.core.errors import Conflict, ErrorItem, ValidationFailed
from labapi.core.services import ModelService
from labapi.facility import models as m
from labapi.facility.schemas import (
    INPUT_DETAIL_VIEW,
    INPUT_VIEW,
    SUBSTOCK_DETAIL_VIEW,
    SUBSTOCK_VIEW,
    to_many,
    to_one,
)

# Which action-log type a substock change is, the first that matches winning.
SUBSTOCK_INPUT_TYPES = (
    ("position_id", "transfer"),
    ("count", "count"),
    ("productivity", "productivity"),
    ("diet_id", "condition"),
    ("light_id", "condition"),
)


def _json_value(value: Any) -> Any:
    """A value as the action log stores it (ids for objects, ISO text for dates)."""
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "id") and not isinstance(value, int | float | str | bool):
        return value.id
    return value


class FacilityService(ModelService):
    """A facility class: to-one relations named in the simple form, M:N ones in detail."""

    # The action log itself is not logged.
    logged: ClassVar[bool] = True
    read_only = ("id", "created", "updated")

    def __init__(self, model: type[Any]) -> None:
        super().__init__(model)
        self.relations = {
            name: ModelService(rel.mapper.class_) for name, rel in to_many(model).items()
        }

    def options(self, *, detail: bool = False) -> list[_AbstractLoad]:
        """The to-one relations (their names are in the simple form); with `detail` the
        M:N lists too: one query per relation, whatever the number of rows."""
        names: Iterable[str] = to_one(self.model)
        if detail:
            names = [*names, *to_many(self.model)]
        return [selectinload(getattr(self.model, name)) for name in names]

    # ---------------------------------------------------------------- checks
    async def check_references(self, *, session: AsyncSession, values: dict[str, Any]) -> None:
        """A 400 for every `<relation>_id` naming no stored object."""
        errors: list[ErrorItem] = []
        for rel in to_one(self.model).values():
            for column in rel.local_columns:
                value = values.get(column.key)
                if value is None:
                    continue
                target = rel.mapper.class_
                if await session.get(target, value) is None:
                    msg = f"no {target.__name__.lower()} with id {value}"
                    errors.append(ErrorItem(("body", column.key), msg, "not_found"))
        if errors:
            raise ValidationFailed("some references name no stored object", errors)

    async def prepare(
        self, *, session: AsyncSession, values: dict[str, Any], obj: Any | None
    ) -> dict[str, Any]:
        """Fill and check what a class derives before a write (`obj` None on create)."""
        return values

    # ---------------------------------------------------------------- writes
    async def get_or_create(
        self,
        *,
        session: AsyncSession,
        data: Any,
        loc: tuple[str | int, ...] = ("body",),
        created_by: Any | None = None,
    ) -> tuple[Any, bool]:
        """Create the object (the facility's POST always creates) and log it."""
        values = self.writable(self._coerce_input(data))
        await self.check_references(session=session, values=values)
        values = await self.resolve_relations(
            session=session, values=values, loc=loc, created_by=created_by
        )
        values = await self.prepare(session=session, values=values, obj=None)
        obj = self.model(**values)
        try:
            async with session.begin_nested():
                session.add(obj)
                await session.flush()
                await self.after_create(session=session, obj=obj)
        except IntegrityError as exc:
            raise Conflict(
                f"this {self.model.__name__} clashes with a stored one: {exc.orig}"
            ) from None
        changes = {name: [None, _json_value(value)] for name, value in values.items()}
        await self.log(session=session, obj=obj, action="create", changes=changes, actor=created_by)
        return await self.reload(session=session, obj=obj), True

    async def update(
        self,
        *,
        session: AsyncSession,
        obj: Any,
        data: dict[str, Any],
        actor: Any | None = None,
        touch: bool = True,  # nothing to touch: facility models have no `modified`
    ) -> Any:
        """Set the given fields, M:N lists replaced whole, and log what changed."""
        values = {k: v for k, v in self.writable(data).items() if k not in self.read_only}
        await self.check_references(session=session, values=values)
        values = await self.resolve_relations(
            session=session, values=values, loc=("body",), created_by=actor
        )
        values = await self.prepare(session=session, values=values, obj=obj)
        if to_many(self.model).keys() & values.keys():
            obj = await self.reload(session=session, obj=obj, detail=True)
        changes = {
            name: [_json_value(getattr(obj, name)), _json_value(value)]
            for name, value in values.items()
            if _json_value(getattr(obj, name)) != _json_value(value)
        }
        before = await self.snapshot(session=session, obj=obj)
        try:
            async with session.begin_nested():
                for name, value in values.items():
                    setattr(obj, name, value)
                await session.flush()
        except IntegrityError as exc:
            raise Conflict(f"the update clashes with stored data: {exc.orig}") from None
        if changes:
            await self.log(
                session=session,
                obj=obj,
                action=self.input_type(changes),
                changes=changes,
                actor=actor,
                before=before,
            )
        return await self.reload(session=session, obj=obj)

    async def delete(self, *, session: AsyncSession, obj: Any, actor: Any | None = None) -> None:
        """Soft delete: the object becomes inactive (hidden from lists unless `_all`)."""
        if obj.active:
            obj.active = False
            await session.flush()
            await self.log(
                session=session,
                obj=obj,
                action="delete",
                changes={"active": [True, False]},
                actor=actor,
            )

    # ---------------------------------------------------------------- the log
    def input_type(self, changes: dict[str, Any]) -> str:
        """The action-log type of an update."""
        return "update"

    async def snapshot(self, *, session: AsyncSession, obj: Any) -> dict[str, Any]:
        """What the log records of the object before a change (count, position)."""
        return {}

    def log_links(self, obj: Any) -> dict[str, Any]:
        """The action-log columns that point at the object."""
        return {}

    async def log(
        self,
        *,
        session: AsyncSession,
        obj: Any,
        action: str,
        changes: dict[str, Any],
        actor: Any | None,
        before: dict[str, Any] | None = None,
    ) -> None:
        """Append the action-log record of one write: who, when, what changed."""
        if not self.logged:
            return
        record = m.Input(
            type=action,
            user_id=getattr(actor, "id", None),
            item_type=self.model.__name__.lower(),
            item_id=obj.id,
            changes=changes,
            description=f"{action} {self.model.__name__.lower()}",
            **self.log_links(obj),
            **(before or {}),
        )
        session.add(record)
        await session.flush()


class StockService(FacilityService):
    """Stocks number themselves within their fishline and date of birth."""

    def log_links(self, obj: Any) -> dict[str, Any]:
        """A stock's records point at it."""
        return {"stock_id": obj.id}

    async def prepare(
        self, *, session: AsyncSession, values: dict[str, Any], obj: Any | None
    ) -> dict[str, Any]:
        """The new stock's number: one more than that day's highest for the fishline."""
        if obj is None:
            highest = await session.scalar(
                select(func.max(m.Stock.stock_num)).where(
                    m.Stock.fishline_id == values["fishline_id"],
                    m.Stock.date_of_birth == values["date_of_birth"],
                )
            )
            values["stock_num"] = (highest or 0) + 1
        return values

    async def after_create(self, *, session: AsyncSession, obj: Any) -> None:
        """The local stock id is the id unless one was given."""
        if not obj.local_stock_id:
            obj.local_stock_id = str(obj.id)
            await session.flush()


class FishlineService(FacilityService):
    """A fishline's records point at it."""

    def log_links(self, obj: Any) -> dict[str, Any]:
        """A fishline's records point at it."""
        return {"fishline_id": obj.id}


async def configured_statuses(session: AsyncSession) -> list[str]:
    """The substock statuses of this facility (`Config` `substock.statuses`)."""
    config = await session.scalar(
        select(m.Config).where(m.Config.name == "substock.statuses", m.Config.active.is_(True))
    )
    values = (config.value or {}).get("values") if config is not None else None
    return [str(v) for v in values] if values else list(m.DEFAULT_STATUSES)


class SubstockService(FacilityService):
    """Substocks: numbered within their stock, statuses from the configuration, sex
    unknown by default, and each change logged as its kind (transfer, count, …)."""

    def options(self, *, detail: bool = False) -> list[_AbstractLoad]:
        """Everything the substock's representation reads, one query per relation."""
        return (SUBSTOCK_DETAIL_VIEW if detail else SUBSTOCK_VIEW).loader_options()

    def log_links(self, obj: Any) -> dict[str, Any]:
        """A substock's records point at it."""
        return {"substock_id": obj.id}

    async def snapshot(self, *, session: AsyncSession, obj: Any) -> dict[str, Any]:
        """The count and position before the change."""
        return {"count_at_start": obj.count, "position_at_start": obj.position_fullname}

    def input_type(self, changes: dict[str, Any]) -> str:
        """Transfer, count, productivity or condition, else a plain update."""
        for name, kind in SUBSTOCK_INPUT_TYPES:
            if name in changes:
                return kind
        return "update"

    async def prepare(
        self, *, session: AsyncSession, values: dict[str, Any], obj: Any | None
    ) -> dict[str, Any]:
        """Check the status; number a new substock and make its sex unknown."""
        status = values.get("status")
        if status is not None:
            statuses = await configured_statuses(session)
            if status not in statuses:
                msg = f"unknown status {status!r}; valid: {', '.join(statuses)}"
                raise ValidationFailed(msg, [ErrorItem(("body", "status"), msg, "enum")])
        if obj is None:
            highest = await session.scalar(
                select(func.max(m.Substock.substock_num)).where(
                    m.Substock.stock_id == values["stock_id"]
                )
            )
            values["substock_num"] = (highest or 0) + 1
            if values.get("sex_id") is None:
                values["sex_id"] = await session.scalar(
                    select(m.Sex.id).where(m.Sex.name == "unknown")
                )
        return values


class InputService(FacilityService):
    """Action-log records are written as they are (never logged again) and list what
    they name, one query per relation."""

    logged = False

    def options(self, *, detail: bool = False) -> list[_AbstractLoad]:
        """Users, objects and superiors of the records; projects with `detail`."""
        return (INPUT_DETAIL_VIEW if detail else INPUT_VIEW).loader_options()
