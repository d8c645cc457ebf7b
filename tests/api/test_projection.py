"""The SQL projection (`api/projection.py`) answers exactly what the ORM path answers.

On PostgreSQL the lists and details of projectable resources are built by the database;
here the same requests go to an app with `sql_json` off (the ORM path, the one SQLite
always takes) and the bodies must be equal, key order included, over rows whose every
relation is set: tags, aliquots, projects with groups, analyses with targets, references,
linked analyses (more than the 50 shown) and results.
"""

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, field_validator
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.api.projection import Projection, Unsupported, compile_projection, projected
from labapi.auth.models import User
from labapi.facility.demo import load_facility
from labapi.facility.specs import REGISTRY as FACILITY_REGISTRY
from labapi.isabl.models import AnalysisStatus, Center
from labapi.isabl.schemas import CenterRead
from labapi.isabl.specs import REGISTRY
from labapi.main import create_app
from tests.conftest import client_as, settings_for
from tests.isabl.factories import (
    make_analysis,
    make_application,
    make_assembly,
    make_experiment,
    make_group,
    make_project,
    make_tag,
)
from tests.isabl.test_analyses import full_experiment

PREFIX = "/api/v1"
# Every Isabl resource is served by its projection on PostgreSQL.
PROJECTED = sorted(spec.name for spec in REGISTRY)
# A demo facility of a few rows per table.
SMALL_DEMO = {"fishlines": 6, "stocks": 12, "substocks": 24, "inputs": 30}


def test_every_isabl_read_schema_projects() -> None:
    missing = [s.name for s in REGISTRY if compile_projection(s.read, s.model) is None]
    assert missing == []


def test_an_unmarked_validator_disables_the_projection() -> None:
    class Shouting(CenterRead):
        @field_validator("name", mode="before")
        @classmethod
        def _upper(cls, value: Any) -> Any:
            return str(value).upper()

    assert compile_projection(Shouting, Center) is None


def test_a_marked_validator_keeps_it() -> None:
    class Quiet(CenterRead):
        @field_validator("data", mode="before")
        @classmethod
        @projected
        def _never_null_again(cls, value: Any) -> Any:
            return {} if value is None else value

    assert isinstance(compile_projection(Quiet, Center), Projection)


def test_a_python_property_is_unsupported() -> None:
    class Computed(BaseModel):
        verbose: str  # Center has no such column, relation or hybrid

    with pytest.raises(Unsupported, match="verbose"):
        Projection(Computed, Center)


async def _rows(session: AsyncSession, superuser: User) -> None:
    """Two full experiments, analyses on them in every state, links over the cap."""
    first = await full_experiment(session, 1)
    second = await full_experiment(session, 2)
    group = await make_group(session)
    project = await make_project(session, group=group, tags=[await make_tag(session)])
    plain = await make_experiment(session, projects=[project], created_by=superuser)
    plain.created = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # no microseconds
    application = await make_application(session, assembly=await make_assembly(session))
    linked = [await make_analysis(session, application=application) for _ in range(52)]
    for status in AnalysisStatus:
        await make_analysis(
            session,
            application=application,
            status=status,
            targets=[first, second],
            references=[plain],
            analyses=linked,
            results={"vcf": "/x.vcf"} if status is AnalysisStatus.SUCCEEDED else {},
            run_time=1.5,
        )
    await session.flush()


@pytest.fixture
def orm_app(engine: AsyncEngine) -> FastAPI:
    return create_app(settings_for(engine, sql_json=False))


def _differences(fast: Any, slow: Any, path: str = "") -> list[str]:
    """Where two JSON values differ (first few paths), for a readable failure."""
    if isinstance(fast, dict) and isinstance(slow, dict):
        if list(fast) != list(slow):
            return [f"{path}: keys {list(fast)} != {list(slow)}"]
        return [d for key in fast for d in _differences(fast[key], slow[key], f"{path}.{key}")][:5]
    if isinstance(fast, list) and isinstance(slow, list) and len(fast) == len(slow):
        return [
            d
            for i, (a, b) in enumerate(zip(fast, slow, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ][:5]
    return [] if fast == slow and type(fast) is type(slow) else [f"{path}: {fast!r} != {slow!r}"]


async def _same(sql: httpx.AsyncClient, orm: httpx.AsyncClient, path: str) -> Any:
    """GET `path` from both apps: both 200, the same body (key order included); the
    body, for the next requests to aim at."""
    fast, slow = await sql.get(path), await orm.get(path)
    assert fast.status_code == slow.status_code == 200, path
    assert _differences(fast.json(), slow.json()) == [], path
    return slow.json()


async def test_lists_and_details_match_the_orm_path(
    backend: str, app: FastAPI, orm_app: FastAPI, session: AsyncSession, superuser: User
) -> None:
    if backend != "postgresql":
        pytest.skip("the projection is PostgreSQL's; SQLite always takes the ORM path")
    await _rows(session, superuser)
    async with (
        client_as(app, session, superuser) as sql,
        client_as(orm_app, session, superuser) as orm,
    ):
        for resource in PROJECTED:
            for query in ("limit=100", "limit=2&offset=1&ordering=-pk"):
                slow = await _same(sql, orm, f"{PREFIX}/{resource}?{query}")
            for item in slow["results"][:3]:
                await _same(sql, orm, f"{PREFIX}/{resource}/{item['pk']}")


async def test_experiments_show_results_and_capped_links(
    backend: str, app: FastAPI, session: AsyncSession, superuser: User
) -> None:
    """The data above reaches the projection: a check that the comparison compares."""
    if backend != "postgresql":
        pytest.skip("the projection is PostgreSQL's")
    await _rows(session, superuser)
    async with client_as(app, session, superuser) as sql:
        listed = (await sql.get(f"{PREFIX}/experiments?limit=100")).json()["results"]
        with_results = [e for e in listed if e["results"]]
        assert with_results, listed
        result = with_results[0]["results"][0]
        assert len(result["analyses"]) == 50
        assert result["analyses"] == sorted(result["analyses"])
        assert result["application"]["assembly"]
        assert result["targets"]
        assert result["references"]
        assert all(e["created"].endswith("Z") for e in listed)
        assert any(e["created"] == "2020-01-01T00:00:00Z" for e in listed)
        assert any(e["aliquot"] and e["aliquot_id"] for e in listed)
        assert any(p["group"] for e in listed for p in e["projects"])


async def test_a_missing_detail_is_a_404_either_way(
    app: FastAPI, session: AsyncSession, superuser: User
) -> None:
    async with client_as(app, session, superuser) as client:
        for path in ("experiments/999999", "experiments/NO_SUCH_ID", "centers/%00"):
            response = await client.get(f"{PREFIX}/{path}")
            assert response.status_code == 404, path


async def test_fields_are_reduced_on_both_paths(
    app: FastAPI, session: AsyncSession, superuser: User
) -> None:
    await _rows(session, superuser)
    async with client_as(app, session, superuser) as client:
        body = (await client.get(f"{PREFIX}/experiments?fields=system_id")).json()
        assert body["results"]
        assert all(set(e) == {"pk", "system_id"} for e in body["results"])


async def test_facility_lists_and_details_match_the_orm_path(
    backend: str, app: FastAPI, orm_app: FastAPI, session: AsyncSession, superuser: User
) -> None:
    """The facility resources whose schemas project (lookups, rooms, …) on the demo."""
    if backend != "postgresql":
        pytest.skip("the projection is PostgreSQL's")
    await load_facility(session, progress=lambda _: None, sizes=SMALL_DEMO)
    projected = [
        spec for spec in FACILITY_REGISTRY if compile_projection(spec.read, spec.model) is not None
    ]
    assert len(projected) > 10  # the simple ones: their fields are columns and relations
    async with (
        client_as(app, session, superuser) as sql,
        client_as(orm_app, session, superuser) as orm,
    ):
        for spec in projected:
            for query in ("pg_size=50", "pg_size=2&pg=2&o=-id", "pg_size=50&detail"):
                slow = await _same(sql, orm, f"/api/{spec.name}?{query}")
            for item in slow["data"][:2]:
                await _same(sql, orm, f"/api/{spec.name}/{item['id']}")


async def test_long_numbers_in_a_list_read_as_the_orm_path_reads_them(
    app: FastAPI, orm_app: FastAPI, session: AsyncSession, superuser: User
) -> None:
    """PostgreSQL prints a stored 1.2e29 as 30 digits; a page holding one is read back
    (to the float it was), a page without one is sent as PostgreSQL wrote it."""
    body = {"name": "big", "acronym": "BIG", "custom_fields": {"n": 1.2e29, "m": 2**64 - 1}}
    async with (
        client_as(app, session, superuser) as sql,
        client_as(orm_app, session, superuser) as orm,
    ):
        assert (await sql.post(f"{PREFIX}/centers", json=body)).status_code == 201
        fast, slow = await sql.get(f"{PREFIX}/centers"), await orm.get(f"{PREFIX}/centers")
        assert fast.json()["results"][0]["custom_fields"] == {"n": 1.2e29, "m": 2**64 - 1}
        assert fast.json() == slow.json()
