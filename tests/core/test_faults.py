"""Database faults: unreachable or killed database, exhausted pool, statement timeout,
cancelled requests. Each is a 503 with `Retry-After` (never a 500, never a hang), and the
service recovers by itself once the database is back.

These tests run the app with its own engine (its lifespan), not the shared test session,
and add a few probe routes to it that touch the database in the ways under test.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from labapi.api.responses import ORJSONResponse
from labapi.core.db import SessionDep
from labapi.core.settings import Settings
from labapi.isabl.models import Tag
from labapi.main import create_app
from tests.conftest import BACKENDS, settings_for

POSTGRESQL_ONLY = pytest.mark.parametrize("engine", [BACKENDS[1]], indirect=True)
Hook = Callable[[int], Awaitable[None]]


def probe_app(
    settings: Settings, on_pid: Hook | None = None, holding: asyncio.Event | None = None
) -> FastAPI:
    """The app with probe routes: a trivial query, a sleep, a write then a wait; `holding`
    is set once a sleep or a write holds its connection."""
    app = create_app(settings)
    holding = holding or asyncio.Event()

    async def probe(session: SessionDep) -> ORJSONResponse:
        pid = "pg_backend_pid()" if session.bind.dialect.name == "postgresql" else "0"
        return ORJSONResponse({"pid": await session.scalar(text(f"SELECT {pid}"))})

    async def sleep(session: SessionDep, seconds: float) -> ORJSONResponse:
        await session.execute(text("SELECT 1"))
        holding.set()
        await session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        return ORJSONResponse({"slept": seconds})

    async def killed(session: SessionDep) -> ORJSONResponse:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        assert on_pid is not None
        await on_pid(pid)
        await session.execute(text("SELECT 1"))
        return ORJSONResponse({"survived": pid})

    async def write_then_wait(session: SessionDep, name: str) -> ORJSONResponse:
        session.add(Tag(name=name))
        await session.flush()
        holding.set()
        await asyncio.sleep(30)
        return ORJSONResponse({"written": name})

    app.add_api_route("/_probe", probe)
    app.add_api_route("/_sleep", sleep)
    app.add_api_route("/_killed", killed)
    app.add_api_route("/_write", write_then_wait, methods=["POST"])
    return app


@contextlib.asynccontextmanager
async def live_client(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    """A client on `app` with its lifespan running (its own engine), and that engine."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, state["sessionmaker"].kw["bind"]


def assert_unavailable(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    problem = response.json()
    assert problem["code"] == "LAB501"
    return str(problem["detail"])


class Proxy:
    """A TCP relay to PostgreSQL that can be taken down and brought back on one port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()


class TestUnreachable:
    @POSTGRESQL_ONLY
    async def test_a_closed_port_is_a_503_and_readyz_says_so(self, engine: AsyncEngine) -> None:
        url = make_url(settings_for(engine).database_url).set(port=1)
        app = probe_app(settings_for(engine, database_url=url.render_as_string(False)))
        async with live_client(app) as (client, _):
            assert "cannot be reached" in assert_unavailable(await client.get("/_probe"))
            assert_unavailable(await client.get("/readyz"))
            # Authentication reads the database too: a 503 rather than a 401 or a 500.
            response = await client.get("/api/v1/tags", headers={"Authorization": "Token x"})
            assert_unavailable(response)
            assert (await client.get("/healthz")).status_code == 200

    async def test_an_unopenable_sqlite_file_is_a_503(self, tmp_path: Path) -> None:
        # A directory where the database file should be: SQLite cannot open it.
        (tmp_path / "db").mkdir()
        url = f"sqlite+aiosqlite:///{tmp_path / 'db'}"
        async with live_client(probe_app(Settings(database_url=url))) as (client, _):
            assert_unavailable(await client.get("/_probe"))

    @POSTGRESQL_ONLY
    async def test_the_service_recovers_when_the_database_is_back(
        self, engine: AsyncEngine
    ) -> None:
        settings = settings_for(engine)
        proxy = Proxy(make_url(settings.database_url).port or 5432)
        await proxy.start()
        url = make_url(settings.database_url).set(port=proxy.port).render_as_string(False)
        async with live_client(probe_app(settings_for(engine, database_url=url))) as (client, _):
            try:
                assert (await client.get("/_probe")).status_code == 200
                await proxy.stop()
                # The pooled connection is dead (pre-ping) and no new one can be made.
                assert_unavailable(await client.get("/_probe"))
                assert_unavailable(await client.get("/_probe"))
                await proxy.start()
                response = await client.get("/_probe")
                assert response.status_code == 200, response.text
            finally:
                with contextlib.suppress(Exception):
                    await proxy.stop()


class TestKilledConnection:
    @POSTGRESQL_ONLY
    async def test_a_connection_killed_mid_request_is_a_503_then_service_goes_on(
        self, engine: AsyncEngine
    ) -> None:
        async def terminate(pid: int) -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        async with live_client(probe_app(settings_for(engine), terminate)) as (client, pool):
            assert "lost" in assert_unavailable(await client.get("/_killed"))
            first = await client.get("/_probe")
            assert first.status_code == 200, first.text
            # A pooled idle connection killed between requests: pre-ping replaces it.
            await terminate(first.json()["pid"])
            again = await client.get("/_probe")
            assert again.status_code == 200, again.text
            assert again.json()["pid"] != first.json()["pid"]
            assert pool.pool.checkedout() == 0


class TestTimeouts:
    @POSTGRESQL_ONLY
    async def test_the_statement_timeout_bounds_every_query(self, engine: AsyncEngine) -> None:
        app = probe_app(settings_for(engine, statement_timeout_ms=200))
        async with live_client(app) as (client, _):
            detail = assert_unavailable(await client.get("/_sleep", params={"seconds": 30}))
            assert "statement timeout" in detail
            assert (await client.get("/_probe")).status_code == 200

    @POSTGRESQL_ONLY
    async def test_an_exhausted_pool_is_a_503_after_the_pool_timeout(
        self, engine: AsyncEngine
    ) -> None:
        settings = settings_for(engine, pool_size=1, pool_max_overflow=0, pool_timeout=0.2)
        holding = asyncio.Event()
        async with live_client(probe_app(settings, holding=holding)) as (client, pool):
            slow = asyncio.create_task(client.get("/_sleep", params={"seconds": 2}))
            await holding.wait()
            assert "busy" in assert_unavailable(await client.get("/_probe"))
            assert (await slow).status_code == 200
            assert (await client.get("/_probe")).status_code == 200


class TestCancelledRequest:
    async def test_a_request_cancelled_mid_write_rolls_back(self, engine: AsyncEngine) -> None:
        name = f"cancelled-{id(self)}"
        holding = asyncio.Event()
        app = probe_app(settings_for(engine), holding=holding)
        async with live_client(app) as (client, pool):
            task = asyncio.create_task(client.post("/_write", params={"name": name}))
            await holding.wait()  # the INSERT is flushed, the transaction open
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0)
            assert pool.pool.checkedout() == 0
            # The write lock (SQLite) and the row are gone: another write gets through.
            async with pool.begin() as conn:
                assert (await conn.scalar(select(Tag.id).where(Tag.name == name))) is None
                await conn.execute(text("SELECT 1"))
            assert (await client.get("/_probe")).status_code == 200
