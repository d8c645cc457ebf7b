"""Engines and sessions: one async engine per app, SQLite and PostgreSQL alike.

SQLite is first-class here, which takes three fixes applied on every new connection:
foreign keys on; SQLAlchemy (not the sqlite3 driver) emitting BEGIN IMMEDIATE, so that
SAVEPOINTs nest inside the transaction and concurrent writers queue instead of failing;
and `lower()` / LIKE made unicode- and case-correct, so that the query language means the
same thing on both databases.
"""

import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import orjson
import regex
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


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern)


class RegexBudget:
    """SQLite's REGEXP, run by Python in the database thread, where nothing can interrupt
    it: `re` backtracks for ever on `(.*a){12}$`. This one uses the `regex` module (the
    same syntax) and a time budget per statement shared by every row; past it the
    function raises, SQLite fails the statement, and the handler answers 400."""

    def __init__(self, budget_ms: int) -> None:
        self.budget = budget_ms / 1000
        self.deadline = time.monotonic() + self.budget

    def restart(self) -> None:
        """A new statement gets the whole budget."""
        self.deadline = time.monotonic() + self.budget

    def regexp(self, pattern: str, value: str | None) -> bool | None:
        """`value REGEXP pattern` (SQLAlchemy's argument order)."""
        if value is None or pattern is None:
            return None
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("regular expression budget spent")
        return _compiled(pattern).search(value, timeout=remaining) is not None


def _on_sqlite_connect(dbapi_connection: Any, record: Any, budget_ms: int) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin): the driver's legacy mode
    # would run SAVEPOINTs outside the transaction.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    # Replaces the dialect's own REGEXP (registered before this listener runs).
    budget = RegexBudget(budget_ms)
    record.info["regex_budget"] = budget
    dbapi_connection.create_function("regexp", 2, budget.regexp, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # LIKE is case-sensitive, as it is on PostgreSQL; ilike goes through lower().
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _on_sqlite_execute(conn: Any, *_args: Any) -> None:
    budget = conn.info.get("regex_budget")
    if budget is not None:
        budget.restart()


def _on_sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    # writes fails at once with "database is locked" when another one wrote meanwhile
    # (the busy timeout does not apply to that upgrade); this one waits its turn instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _json_loads(text: str | bytes) -> Any:
    # orjson, not json: PostgreSQL prints a stored 1.2e29 as a 30-digit integer, which
    # json.loads turns into an int that no JSON response can render (orjson stops at 64
    # bits); orjson reads it back as the float it was.
    return orjson.loads(text)


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
        engine = create_async_engine(url, echo=settings.echo_sql, json_deserializer=_json_loads)
        budget_ms = settings.sqlite_regex_budget_ms
        event.listen(
            engine.sync_engine,
            "connect",
            lambda conn, record: _on_sqlite_connect(conn, record, budget_ms),
        )
        event.listen(engine.sync_engine, "before_cursor_execute", _on_sqlite_execute)
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
    # asyncpg's own connect timeout is 60 s: an unreachable server would hold requests
    # that long.
    connect_args: dict[str, Any] = {
        "timeout": settings.database_connect_timeout,
        "prepared_statement_cache_size": settings.statement_cache_size,
    }
    if server_settings:
        connect_args["server_settings"] = server_settings
    return create_async_engine(
        url,
        connect_args=connect_args,
        echo=settings.echo_sql,
        json_deserializer=_json_loads,
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
