"""Run Alembic from inside labapi: the CLI, startup and the tests share this."""

import os
from pathlib import Path

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
