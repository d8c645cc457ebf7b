"""Racing get-or-creates of a nested analysis on real, separate connections make one row of
each object (the analysis, its application and assembly, the individual and its center).

These requests commit for real (each has its own session, as in production), so the test
cleans up after itself. On SQLite writers queue (BEGIN IMMEDIATE); on PostgreSQL the
unique keys decide, NULL assemblies included (NULLS NOT DISTINCT).
"""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from labapi.core.db import create_sessionmaker
from labapi.isabl.models import Analysis, Application, Assembly, Center, Individual, Tag
from tests.conftest import committing_client

PARALLEL = 12
CENTER = {"name": "Race Center", "acronym": "RACE"}
INDIVIDUAL = {"identifier": "RACER-1", "species": "HUMAN", "center": CENTER}


@pytest.fixture
async def live_client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request gets its own committed session."""
    applications = select(Application.id).where(Application.name.like("race-%"))
    cleanup = (
        delete(Analysis).where(Analysis.application_id.in_(applications)),
        delete(Application).where(Application.name.like("race-%")),
        delete(Assembly).where(Assembly.name == "race-GRCh37"),
        delete(Individual).where(Individual.identifier == "RACER-1"),
        delete(Center).where(Center.acronym == "RACE"),
        delete(Tag).where(Tag.name.like("race-%")),
    )
    async with committing_client(engine, "analysis-racer", cleanup) as client:
        yield client


async def rows(engine: AsyncEngine, model: type, *where: object) -> int:
    async with create_sessionmaker(engine)() as check:
        return int(await check.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize(
    "assembly",
    [
        pytest.param({"name": "race-GRCh37", "species": "HUMAN"}, id="with-assembly"),
        pytest.param(None, id="null-assembly"),
    ],
)
async def test_parallel_nested_analysis_get_or_create_makes_one_of_each(
    live_client: httpx.AsyncClient, engine: AsyncEngine, assembly: dict[str, str] | None
) -> None:
    body = {
        "application": {"name": "race-merge", "version": "1", "assembly": assembly},
        "individual_level_analysis": INDIVIDUAL,
        "tags": [{"name": "race-a"}],
    }
    responses = await asyncio.gather(
        *(live_client.post("/api/v1/analyses", json=body) for _ in range(PARALLEL))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (PARALLEL - 1) + [201], [r.text for r in responses]
    assert len({response.json()["pk"] for response in responses}) == 1
    counts = [
        await rows(engine, Analysis),
        await rows(engine, Application, Application.name == "race-merge"),
        await rows(engine, Assembly, Assembly.name == "race-GRCh37"),
        await rows(engine, Individual, Individual.identifier == "RACER-1"),
        await rows(engine, Center, Center.acronym == "RACE"),
        await rows(engine, Tag, Tag.name.like("race-%")),
    ]
    assert counts == [1, 1, 1 if assembly else 0, 1, 1, 1]
