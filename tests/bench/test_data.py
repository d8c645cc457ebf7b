"""The benchmark's generated data follows the services' rules: every system id is the one
`isabl.services` would have given, and a service-made experiment continues the numbering.

Runs on a PostgreSQL database of its own (COPY and TRUNCATE), dropped at the end.
"""

import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.data import dsn, prepare
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.settings import Settings
from labapi.isabl.models import Experiment
from labapi.isabl.services import experiment_service
from tests.conftest import PG_URL

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


@pytest.fixture
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
