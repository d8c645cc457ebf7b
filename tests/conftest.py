"""Fixtures: both real databases, migrated once per run; each test in a rolled-back
transaction, even when the code under test commits or uses savepoints.

`-m sqlite` runs offline; `-m postgresql` needs the server of LABAPI_TEST_DATABASE_URL
(default: the local `test` database), where each run works in a schema of its own, dropped
at the end. A missing server is an error, never a skip.
"""

import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Executable, delete, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import Permission, Token, User
from labapi.auth.passwords import hash_password
from labapi.auth.tokens import issue_token
from labapi.core.db import create_engine, create_sessionmaker, get_session
from labapi.core.migrate import upgrade
from labapi.core.settings import Settings
from labapi.main import create_app

PG_URL = os.environ.get(
    "LABAPI_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

# The settings each test engine was made with (PostgreSQL runs in a schema of their own).
ENGINE_SETTINGS: dict[int, Settings] = {}

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite, id="sqlite"),
    pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
]


def backend_url(backend: str, tmp: Path) -> str:
    """The database URL of a backend for this run."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'labapi-test.db'}"
    return PG_URL


@pytest.fixture(scope="session", params=BACKENDS)
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated database per backend, shared by the whole run."""
    backend: str = request.param
    url = backend_url(backend, tmp_path_factory.mktemp(backend))
    settings = Settings(database_url=url, secret_key="test-secret-key")
    schema = None
    if backend == "postgresql":
        # A schema of its own per run: runs side by side never see each other's tables.
        schema = f"labapi_test_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(settings)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        settings = settings.model_copy(update={"database_schema": schema})
    engine = create_engine(settings)
    ENGINE_SETTINGS[id(engine)] = settings
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: upgrade(connection=sync_conn))
        yield engine
    finally:
        await engine.dispose()
        if schema is not None:
            admin = create_engine(settings.model_copy(update={"database_schema": None}))
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await admin.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        session = AsyncSession(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await trans.rollback()


@pytest.fixture
def backend(engine: AsyncEngine) -> str:
    """`sqlite` or `postgresql`."""
    return engine.dialect.name


@asynccontextmanager
async def app_client(app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on `app` whose requests all use `session`."""

    async def override_session() -> AsyncIterator[AsyncSession]:
        yield session
        await session.flush()

    app.dependency_overrides[get_session] = override_session
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def settings_for(engine: AsyncEngine, **overrides: object) -> Settings:
    """Settings for an app on the test database (its schema included)."""
    return ENGINE_SETTINGS[id(engine)].model_copy(update=overrides)


async def make_user(
    session: AsyncSession,
    username: str,
    *,
    password: str | None = None,
    superuser: bool = False,
    permissions: tuple[str, ...] = (),
    **fields: object,
) -> User:
    """A user with the given `app.codename` permissions (granted directly)."""
    user = User(
        username=username,
        password=hash_password(password) if password else "",
        is_superuser=superuser,
        **fields,
    )
    if permissions:
        wanted = [tuple(label.split(".", 1)) for label in permissions]
        found = (
            await session.scalars(
                select(Permission).where(
                    tuple_(Permission.app_label, Permission.codename).in_(wanted)
                )
            )
        ).all()
        assert len(found) == len(wanted), f"unknown permissions in {permissions}"
        user.user_permissions = list(found)
    session.add(user)
    await session.flush()
    return user


@pytest.fixture
async def app(engine: AsyncEngine) -> FastAPI:
    """The application on the test database."""
    return create_app(settings_for(engine))


@pytest.fixture
async def anon_client(app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without credentials."""
    async with app_client(app, session) as client:
        yield client


@pytest.fixture
async def superuser(session: AsyncSession) -> User:
    """The superuser the default `client` acts as."""
    return await make_user(session, "root", superuser=True, email="root@example.org")


@asynccontextmanager
async def client_as(
    app: FastAPI, session: AsyncSession, user: User
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client sending a fresh API key of `user`."""
    key = await issue_token(session, user)
    async with app_client(app, session) as client:
        client.headers["Authorization"] = f"Token {key}"
        yield client


@pytest.fixture
async def client(
    app: FastAPI, session: AsyncSession, superuser: User
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client acting as a superuser, its requests sharing the test's session."""
    async with client_as(app, session, superuser) as client:
        yield client


@asynccontextmanager
async def committing_client(
    engine: AsyncEngine, username: str, cleanup: Sequence[Executable] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    """A superuser's client whose every request gets its own session that commits for
    real, as in production (racing requests). Afterwards the `cleanup` statements run,
    then the user and its keys are deleted."""
    sessions = create_sessionmaker(engine)
    async with sessions() as setup:
        user = User(username=username, is_superuser=True)
        setup.add(user)
        await setup.flush()
        key = await issue_token(setup, user)
        await setup.commit()
    app = create_app(settings_for(engine))

    async def own_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    app.dependency_overrides[get_session] = own_session
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.headers["Authorization"] = f"Token {key}"
            yield client
    finally:
        async with sessions() as done:
            for statement in cleanup:
                await done.execute(statement)
            await done.execute(delete(Token).where(Token.user_id == user.id))
            await done.execute(delete(User).where(User.id == user.id))
            await done.commit()
