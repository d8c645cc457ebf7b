"""Alembic environment: async, batch mode on SQLite, every surface's models loaded.

The URL is `config.attributes["url"]` when labapi runs the migrations itself (CLI, tests,
startup), else the settings' `LABAPI_DATABASE_URL`. A caller may also hand over an open
connection as `config.attributes["connection"]`.
"""

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from labapi.core.db import create_engine
from labapi.core.models import UTCDateTime, import_all_models
from labapi.core.settings import Settings

config = context.config
target_metadata = import_all_models()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render labapi's column types with plain SQLAlchemy names in migration files."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.JSON) and getattr(obj, "_variant_mapping", None):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        compare_type=True,
        literal_binds=connection is None,
    )


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def database_url() -> str:
    return config.attributes.get("url") or Settings().database_url


if context.is_offline_mode():
    _configure(url=database_url())
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    do_run_migrations(connection)
else:
    asyncio.run(run_async_migrations(database_url()))
