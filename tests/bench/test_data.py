"""The benchmark's generated data follows the services' rules: every system id is the one
`isabl.services` would have given, and a service-made experiment continues the numbering;
the analyses and the facility read through the API as the scenarios read them.

Runs on a PostgreSQL database of its own (COPY and TRUNCATE), dropped at the end; the
tests share one load of it.
"""

import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bench.data import TABLES, dsn, prepare
from bench.scenarios import SCENARIOS
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.models import import_all_models
from labapi.core.settings import Settings
from labapi.isabl.models import Experiment
from labapi.isabl.services import experiment_service
from labapi.main import create_app
from tests.conftest import PG_URL, app_client

pytestmark = pytest.mark.postgresql

# The service's rules, restated in SQL: the n-th experiment of a (sample, aliquot, method).
RULES = """
WITH numbered AS (
  SELECT e.system_id, s.system_id AS sample, a.system_id AS aliquot, t.method,
         row_number() OVER (PARTITION BY e.sample_id, e.aliquot_id, t.method ORDER BY e.id) AS n
  FROM experiment e JOIN sample s ON s.id = e.sample_id JOIN technique t ON t.id = e.technique_id
  JOIN aliquot a ON a.id = e.aliquot_id)
SELECT
  (SELECT count(*) FROM numbered WHERE system_id <> sample || '_' || right(aliquot, 2) || '_'
     || method || lpad(n::text, 2, '0')) AS bad_experiments,
  (SELECT count(*) FROM aliquot a JOIN sample s ON s.id = a.sample_id
     WHERE a.system_id <> s.system_id || '_01') AS bad_aliquots,
  (SELECT count(*) FROM sample s JOIN individual i ON i.id = s.individual_id
     WHERE s.system_id <> i.system_id || '_' || left(s.category, 1) || '01') AS bad_samples,
  (SELECT count(*) FROM individual
     WHERE system_id <> 'ISB_' || left(species, 1) || lpad(id::text, 6, '0')) AS bad_individuals
"""


# The facility's numbering and placing rules, and the analyses' pairing, in SQL.
FACILITY_RULES = """
SELECT
  (SELECT count(*) FROM (SELECT stock_num, local_stock_id, id, row_number() OVER
     (PARTITION BY fishline_id, date_of_birth ORDER BY id) AS n FROM facility_stock) s
     WHERE stock_num <> n OR local_stock_id <> id::text) AS bad_stocks,
  (SELECT count(*) FROM (SELECT substock_num, row_number() OVER
     (PARTITION BY stock_id ORDER BY id) AS n FROM facility_substock) s
     WHERE substock_num <> n) AS bad_substock_numbers,
  (SELECT count(*) FROM facility_substock
     WHERE status IN ('productive', 'unproductive') AND position_id IS NULL) AS unplaced,
  (SELECT count(position_id) - count(DISTINCT position_id) FROM facility_substock) AS shared,
  (SELECT count(*) FROM facility_substockgenotype z JOIN facility_substock s
     ON s.id = z.substock_id JOIN facility_stock k ON k.id = s.stock_id
     WHERE NOT EXISTS (SELECT 1 FROM facility_fishline_genotype f
       WHERE f.fishline_id = k.fishline_id AND f.genotype_id = z.genotype_id))
     AS foreign_genotypes,
  (SELECT count(*) FROM analysis_reference r
     JOIN experiment re ON re.id = r.experiment_id JOIN sample rs ON rs.id = re.sample_id
     WHERE rs.category <> 'NORMAL' OR NOT EXISTS (SELECT 1 FROM analysis_target t
       JOIN experiment te ON te.id = t.experiment_id JOIN sample ts ON ts.id = te.sample_id
       WHERE t.analysis_id = r.analysis_id AND ts.category = 'TUMOR'
         AND ts.individual_id = rs.individual_id)) AS bad_references,
  (SELECT count(*) FROM analysis a WHERE (SELECT count(*) FROM analysis_target t
     WHERE t.analysis_id = a.id) NOT BETWEEN
     (CASE WHEN a.project_level_analysis_id IS NULL THEN 1 ELSE 0 END)
     AND (CASE WHEN a.project_level_analysis_id IS NULL THEN 2 ELSE 0 END)) AS bad_targets
"""


@pytest.fixture(scope="module")
async def bench_url() -> AsyncIterator[str]:
    """A fresh database for the generator."""
    name = f"labapi_bench_test_{os.getpid()}_{secrets.token_hex(3)}"
    url = str(make_url(PG_URL).set(database=name))
    admin = await asyncpg.connect(dsn(str(make_url(PG_URL))))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_generated_system_ids_follow_the_services(bench_url: str) -> None:
    dataset = await prepare(bench_url, 400)
    assert dataset.counts["experiment"] == 400
    conn = await asyncpg.connect(dsn(bench_url))
    try:
        row = await conn.fetchrow(RULES)
        duplicates = await conn.fetchval(
            "SELECT count(*) - count(DISTINCT system_id) FROM experiment"
        )
    finally:
        await conn.close()
    assert dict(row) == {
        "bad_experiments": 0,
        "bad_aliquots": 0,
        "bad_samples": 0,
        "bad_individuals": 0,
    }
    assert duplicates == 0
    # The service numbers a new experiment after the generated ones of its sample.
    engine = create_engine(Settings(database_url=bench_url))
    try:
        async with create_sessionmaker(engine)() as session:
            body = dict(dataset.existing_body, identifier="one more")
            obj, created = await experiment_service.get_or_create(session=session, data=body)
            assert created
            siblings = await session.scalars(
                select(Experiment.system_id).where(
                    Experiment.sample_id == obj.sample_id, Experiment.id != obj.id
                )
            )
            method = obj.technique.method
            same = [s for s in siblings if s and f"_{method}" in s]
            assert obj.system_id.endswith(f"_{method}{len(same) + 1:02d}")
            await session.rollback()
    finally:
        await engine.dispose()


async def test_generated_facility_follows_the_services(bench_url: str) -> None:
    await prepare(bench_url, 400)
    conn = await asyncpg.connect(dsn(bench_url))
    try:
        row = await conn.fetchrow(FACILITY_RULES)
        tables = import_all_models().tables
        inactive = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table} WHERE NOT active")
            for table in TABLES
            if "active" in tables[table].c
        }
        substocks = await conn.fetchval("SELECT count(*) FROM facility_substock")
    finally:
        await conn.close()
    # Each rule counts the rows breaking it: the broken ones by name.
    assert {rule: n for rule, n in row.items() if n} == {}
    assert {table: n for table, n in inactive.items() if n} == {}
    assert substocks == 400


async def test_generated_rows_read_through_the_api(bench_url: str) -> None:
    """Every analysis and substock validates against its Read schema (a 500 otherwise),
    the scenarios find rows, and new objects continue the generated ids and numbers."""
    dataset = await prepare(bench_url, 400)
    app = create_app(Settings(database_url=bench_url, secret_key="test-secret-key"))
    engine = create_engine(Settings(database_url=bench_url))
    try:
        async with engine.connect() as conn:
            trans = await conn.begin()
            session = AsyncSession(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            async with app_client(app, session) as client:
                client.headers["Authorization"] = f"Token {dataset.token}"
                for scenario in SCENARIOS:
                    if not {"analysis", "substock"} & set(scenario.data):
                        continue
                    response = await client.get(scenario.paths(dataset)[0])
                    assert response.status_code == 200, (scenario.name, response.text)
                    body = response.json()
                    assert body.get("results") or body.get("data"), scenario.name
                analyses = await client.get("/api/v1/analyses?limit=1000")
                details = await client.get("/api/substock?pg_size=0&detail")
                analysis = await client.post(
                    "/api/v1/analyses", json={"application": {"pk": 1}, "targets": [{"pk": 1}]}
                )
                substock = await client.post("/api/substock", json={"stock_id": 1})
            await session.close()
            await trans.rollback()
    finally:
        await engine.dispose()
    assert analyses.status_code == 200, analyses.text
    assert analyses.json()["count"] == dataset.counts["analysis"] > 400
    assert details.status_code == 200, details.text
    assert len(details.json()["data"]) == 400
    assert analysis.status_code == 201, analysis.text
    assert analysis.json()["pk"] == dataset.counts["analysis"] + 1
    assert substock.status_code == 201, substock.text
    # Stock 1 holds substocks 1, 101, 201, 301: the new one is its fifth, id 401.
    assert (substock.json()["id"], substock.json()["substock_num"]) == (401, 5)
