"""Engines and sessions: one async engine per app, SQLite and PostgreSQL alike.

SQLite is first-class here, which takes three fixes applied on every new connection:
foreign keys on; SQLAlchemy (not the sqlite3 driver) emitting BEGIN IMMEDIATE, so that
SAVEPOINTs nest inside the transaction and concurrent writers queue instead of failing;
and `lower()` / LIKE made unicode- and case-correct, so that the query language means the
same thing on both databases.
"""

from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from labapi.core.settings import Settings


def _unicode_lower(value: Any) -> Any:
    # SQLite's built-in lower() folds ASCII only; PostgreSQL folds every script.
    return value.lower() if isinstance(value, str) else value


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin): the driver's legacy mode
    # would run SAVEPOINTs outside the transaction.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # LIKE is case-sensitive, as it is on PostgreSQL; ilike goes through lower().
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    # writes fails at once with "database is locked" when another one wrote meanwhile
    # (the busy timeout does not apply to that upgrade); this one waits its turn instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# The statements run for the current request (`debug_query_count`): a one-item list set by
# `api.handlers.QueryCountMiddleware`, shared by every task and greenlet the request spawns.
QUERY_COUNT: ContextVar[list[int] | None] = ContextVar("labapi_query_count", default=None)


def _count_query(*_args: Any) -> None:
    counter = QUERY_COUNT.get()
    if counter is not None:
        counter[0] += 1


def is_sqlite(url: str) -> bool:
    """Whether a database URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for `settings.database_url`, tuned per backend.

    Args:
        settings: the service settings.

    Returns:
        An engine whose connections are ready for labapi's queries.
    """
    url = settings.database_url
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=settings.echo_sql)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    else:
        engine = _create_postgresql_engine(settings)
    if settings.debug_query_count:
        install_query_counter(engine)
    return engine


def install_query_counter(engine: AsyncEngine) -> None:
    """Count every statement `engine` runs into the current request's `QUERY_COUNT`."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _count_query):
        event.listen(engine.sync_engine, "before_cursor_execute", _count_query)


def _create_postgresql_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    server_settings: dict[str, str] = {}
    if settings.database_schema:
        server_settings["search_path"] = settings.database_schema
    if settings.statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
    if settings.database_random_page_cost is not None:
        server_settings["random_page_cost"] = str(settings.database_random_page_cost)
    connect_args: dict[str, Any] = {
        "prepared_statement_cache_size": settings.statement_cache_size,
    }
    if server_settings:
        connect_args["server_settings"] = server_settings
    return create_async_engine(
        url,
        connect_args=connect_args,
        echo=settings.echo_sql,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=True,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory used by requests: objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, open until the response is sent (streams read from it)."""
    async with request.state.sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise


async def commit_session(
    session: Annotated[AsyncSession, Depends(get_session)],
) -> AsyncIterator[AsyncSession]:
    """The request's session, committed when the endpoint returns and before the response
    is sent, so a failed commit becomes an error response."""
    yield session
    await session.commit()


SessionDep = Annotated[AsyncSession, Depends(commit_session, scope="function")]
