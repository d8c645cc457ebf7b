"""`X-Query-Count` (setting `debug_query_count`), and a fixed number of statements per
request: a list of many nested experiments costs as many queries as a list of one."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import User
from labapi.core.db import install_query_counter
from labapi.main import create_app
from tests.conftest import client_as, settings_for
from tests.isabl.factories import (
    make_aliquot,
    make_center,
    make_experiment,
    make_platform,
    make_project,
    make_tag,
)


@pytest.fixture
async def counting(
    engine: AsyncEngine, session: AsyncSession, superuser: User
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app that counts the statements of each request."""
    install_query_counter(engine)
    app: FastAPI = create_app(settings_for(engine, debug_query_count=True))
    async with client_as(app, session, superuser) as client:
        yield client


async def _experiment(session: AsyncSession, n: int) -> str:
    tags = [await make_tag(session) for _ in range(2)]
    aliquot = await make_aliquot(session, tags=tags)
    experiment = await make_experiment(
        session,
        sample=aliquot.sample,
        aliquot=aliquot,
        platform=await make_platform(session),
        center=await make_center(session),
        projects=[await make_project(session), await make_project(session)],
        tags=tags,
    )
    return str(experiment.system_id)


class Statements:
    """The statements an engine runs, logged beside the header's count."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine, self.seen = engine, []
        event.listen(engine.sync_engine, "before_cursor_execute", self.log)

    def log(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement)

    def close(self) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self.log)


async def _count(
    client: httpx.AsyncClient, statements: Statements, method: str, url: str, **kw: Any
) -> int:
    """The SELECTs of one request (the header counts every statement; the test's
    rolled-back transaction adds SAVEPOINTs of its own)."""
    statements.seen.clear()
    response = await client.request(method, url, **kw)
    assert response.status_code < 300, response.text
    assert int(response.headers["x-query-count"]) == len(statements.seen)
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements.seen)


async def test_queries_per_request_do_not_grow_with_rows(
    counting: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    statements = Statements(engine)
    try:
        first = await _experiment(session, 1)
        one = {
            "list": await _count(counting, statements, "GET", "/api/v1/experiments?limit=100"),
            "detail": await _count(counting, statements, "GET", f"/api/v1/experiments/{first}"),
        }
        others = [await _experiment(session, n) for n in range(2, 6)]
        many = {
            "list": await _count(counting, statements, "GET", "/api/v1/experiments?limit=100"),
            "detail": await _count(
                counting, statements, "GET", f"/api/v1/experiments/{others[-1]}"
            ),
        }
    finally:
        statements.close()
    assert many == one
    assert one["list"] > 1


async def test_no_header_unless_enabled(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/experiments")
    assert response.status_code == 200
    assert "x-query-count" not in response.headers
