"""Racing requests on real, separate connections: identical get-or-creates make one row.

These tests commit for real (each request has its own session, as in production), so they
clean up after themselves.
"""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import Token, User
from labapi.auth.tokens import issue_token
from labapi.core.db import create_sessionmaker, get_session
from labapi.isabl.models import Center, Tag
from labapi.main import create_app
from tests.conftest import settings_for

PARALLEL = 12


@pytest.fixture
async def live_client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request gets its own committed session."""
    sessions = create_sessionmaker(engine)
    async with sessions() as setup:
        user = User(username="racer", is_superuser=True)
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
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        client.headers["Authorization"] = f"Token {key}"
        yield client
    async with sessions() as cleanup:
        await cleanup.execute(delete(Center).where(Center.acronym == "RACE"))
        await cleanup.execute(delete(Tag).where(Tag.name.like("race-%")))
        await cleanup.execute(delete(Token).where(Token.user_id == user.id))
        await cleanup.execute(delete(User).where(User.id == user.id))
        await cleanup.commit()


async def test_parallel_identical_get_or_create_makes_one_row(live_client, engine):
    body = {
        "name": "Race Center",
        "acronym": "RACE",
        "tags": [{"name": "race-a"}, {"name": "race-b"}],
    }
    responses = await asyncio.gather(
        *(live_client.post("/api/v1/centers", json=body) for _ in range(PARALLEL))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (PARALLEL - 1) + [201], [r.text for r in responses]
    assert len({response.json()["pk"] for response in responses}) == 1
    async with create_sessionmaker(engine)() as check:
        centers = await check.scalar(
            select(func.count()).select_from(Center).where(Center.acronym == "RACE")
        )
        tags = await check.scalar(
            select(func.count()).select_from(Tag).where(Tag.name.like("race-%"))
        )
    assert (centers, tags) == (1, 2)
