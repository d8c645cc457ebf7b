"""The facility envelope (`data`/`meta`/`warnings`, pg/pg_size/o) through HTTP, served by
the same factory for a resource declared on the facility surface."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.api.factory import FACILITY, ResourceSpec
from labapi.isabl import schemas, services
from labapi.isabl.models import Tag
from labapi.main import create_app
from tests.conftest import client_as, settings_for

FACILITY_TAGS = ResourceSpec(
    name="tag",
    model=Tag,
    read=schemas.TagRead,
    create=schemas.TagCreate,
    update=schemas.TagUpdate,
    service=services.tag_service,
    surface=FACILITY,
)


@pytest.fixture
async def facility(
    engine: AsyncEngine, session: AsyncSession, superuser
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(engine, facility_page_size_default=3), registry=(FACILITY_TAGS,))
    async with client_as(app, session, superuser) as client:
        yield client


async def _seed(session: AsyncSession, names: list[str]) -> list[int]:
    tags = [Tag(name=name, slug=name) for name in names]
    session.add_all(tags)
    await session.flush()
    return [tag.id for tag in tags]


NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]


class TestMetaEnvelope:
    async def test_first_page_uses_default_size(self, facility, session):
        ids = await _seed(session, NAMES)
        body = (await facility.get("/api/tag/")).json()
        assert [row["pk"] for row in body["data"]] == ids[:3]
        assert body["meta"] == {
            "filters": {"positive": {}, "negative": {}},
            "order": None,
            "filtered_count": 7,
            "total_count": 7,
            "page": 1,
            "page_size": 3,
            "max_page": 3,
        }
        assert body["warnings"] == []

    async def test_filters_order_and_pages(self, facility, session):
        await _seed(session, NAMES)
        response = await facility.get(
            "/api/tag?name__contains=e&name__exact!=beta&o=-name&pg=2&pg_size=2"
        )
        body = response.json()
        # names with an "e" but not beta: zeta, epsilon, eta, delta (descending: zeta, eta,
        # epsilon, delta)
        assert [row["name"] for row in body["data"]] == ["epsilon", "delta"]
        meta = body["meta"]
        assert meta["filters"] == {
            "positive": {"name__contains": "e"},
            "negative": {"name": "beta"},
        }
        assert meta["order"] == "-name"
        assert (meta["filtered_count"], meta["total_count"]) == (4, 7)
        assert (meta["page"], meta["page_size"], meta["max_page"]) == (2, 2, 2)

    async def test_page_past_the_last_warns(self, facility, session):
        await _seed(session, NAMES)
        body = (await facility.get("/api/tag/?pg=9")).json()
        assert body["data"] == []
        assert body["meta"]["max_page"] == 3
        assert len(body["warnings"]) == 1
        assert "past the last page" in body["warnings"][0]

    async def test_bad_page_size_falls_back_with_warning(self, facility, session):
        await _seed(session, NAMES)
        body = (await facility.get("/api/tag/?pg_size=lots")).json()
        assert body["meta"]["page_size"] == 3
        assert "pg_size" in body["warnings"][0]

    async def test_pg_size_zero_streams_every_row(self, facility, session):
        ids = await _seed(session, [f"t{i:04d}" for i in range(1203)])
        response = await facility.get("/api/tag/?pg_size=0&name__startswith=t0")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert [row["pk"] for row in body["data"]] == ids[:1000]
        assert body["meta"]["page_size"] == 0
        assert body["meta"]["max_page"] == 1
        assert body["meta"]["filtered_count"] == 1000
        assert body["warnings"] == []

    async def test_empty_filter_key_is_a_problem(self, facility):
        response = await facility.get("/api/tag/?nme=1")
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["query", "nme"]
