"""Racing requests on real, separate connections: identical get-or-creates make one row.

These tests commit for real (each request has its own session, as in production), so they
clean up after themselves.
"""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from labapi.core.db import create_sessionmaker
from labapi.isabl.models import Center, Tag
from tests.conftest import committing_client

PARALLEL = 12


@pytest.fixture
async def live_client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request gets its own committed session."""
    cleanup = (
        delete(Center).where(Center.acronym == "RACE"),
        delete(Tag).where(Tag.name.like("race-%")),
    )
    async with committing_client(engine, "racer", cleanup) as client:
        yield client


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
