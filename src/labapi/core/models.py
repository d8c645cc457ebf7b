"""The declarative base, column types shared by every surface, and the model import hub.

`import_all_models()` imports every surface's models so that Alembic autogenerate and the
tests see all tables (the one place that knows every family of resources).
"""

import datetime as dt
import enum
import importlib
import uuid
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData, TypeDecorator, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MODEL_MODULES = ("labapi.auth.models", "labapi.isabl.models", "labapi.facility.models")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC on every backend.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text, so values compare and sort
    lexically, and the `date`/`year`/… transforms read UTC on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stored: dt.datetime = value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=dt.UTC)
        return stored.astimezone(dt.UTC)


# JSON documents: JSONB on PostgreSQL (indexable, `?` for has_key), JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Base of every labapi model; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        uuid.UUID: Uuid(),
    }

    @property
    def pk(self) -> Any:
        """The primary key, named as the APIs name it."""
        return getattr(self, "id", None)

    @property
    def model_name(self) -> str:
        """The class name shown as `model_name` in representations."""
        return type(self).__name__


class IdMixin:
    """An integer surrogate primary key named `id` (`pk` in the APIs)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-10)


def enum_names(enum_cls: type[enum.Enum]) -> list[str]:
    """The member names of an enum, as stored and sorted in the database."""
    return [member.name for member in enum_cls]


def import_all_models() -> MetaData:
    """Import every surface's models and return the shared metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
