"""Run Alembic from inside labapi: the CLI, startup and the tests share this."""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

# The checkout (or the image's /app) holding alembic.ini and migrations/; LABAPI_HOME
# points there when labapi is installed as a plain package.
ROOT = Path(os.environ.get("LABAPI_HOME") or Path(__file__).resolve().parents[3])


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at this checkout's migrations."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, connection: Connection | None = None) -> None:
    """Migrate the database to the newest revision."""
    command.upgrade(alembic_config(url, connection), "head")


PERMISSION_ACTIONS = ("add", "change", "delete", "view")


def seed_permissions(connection: Connection, app: str, models: dict[str, str]) -> None:
    """Insert the add/change/delete/view permissions of each model, once.

    Migrations call this with the models they create, named explicitly, so that a
    migration means the same thing forever; the table is described here, not imported.

    Args:
        connection: the migration's connection (`op.get_bind()`).
        app: the app label (`isabl`, `facility`, `auth`).
        models: model label to verbose name (`{"center": "center"}`).
    """
    table = sa.table(
        "auth_permission",
        sa.column("app_label", sa.String),
        sa.column("codename", sa.String),
        sa.column("name", sa.String),
    )
    existing = {
        (row.app_label, row.codename)
        for row in connection.execute(sa.select(table.c.app_label, table.c.codename))
    }
    rows = [
        {"app_label": app, "codename": f"{action}_{model}", "name": f"Can {action} {verbose}"}
        for model, verbose in models.items()
        for action in PERMISSION_ACTIONS
        if (app, f"{action}_{model}") not in existing
    ]
    if rows:
        connection.execute(sa.insert(table), rows)
