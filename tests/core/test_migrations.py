"""The migrations build exactly the schema the models declare, on both databases."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from labapi.core.migrate import alembic_config
from labapi.core.models import import_all_models


async def test_models_and_migrations_agree(engine):
    metadata = import_all_models()

    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_database_is_at_head(engine):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    def current(sync_conn):
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        assert await conn.run_sync(current) == head


async def test_every_model_table_exists(engine):
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(import_all_models().tables) <= tables


def test_one_head_and_dated_file_names():
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_[a-z0-9_]+\.py", name), name
