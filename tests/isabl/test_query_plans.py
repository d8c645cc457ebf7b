"""The filtered experiments list uses indexes on PostgreSQL: no sequential scan of the
experiment table, on a table large enough for the planner to choose (50k rows), in any
of its statements (the page's pks, their projection, and the ORM path's page).

The rows are made with `generate_series` inside the test's transaction and analysed there,
so the planner sees real statistics; nothing is forced (no `enable_seqscan`): the plan is
the one the service gets with its own connection settings (`database_random_page_cost`).
"""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.api.factory import parse_list_query
from labapi.api.projection import Projection
from labapi.isabl.models import Experiment
from labapi.isabl.specs import EXPERIMENTS
from labapi.query import apply_window, limit_offset_window

ROWS = 50_000
COMMON = "now(), now(), '{}', '{}'"
FILL = [
    "INSERT INTO center (id, name, acronym, slug, uuid, created, modified, custom_fields, data)"
    f" VALUES (900001, 'Plan', 'PL', 'plan-pl', gen_random_uuid(), {COMMON})",
    "INSERT INTO individual (id, identifier, species, gender, center_id, uuid, created,"
    f" modified, custom_fields, data) VALUES (900001, 'plan', 'HUMAN', 'UNKNOWN', 900001,"
    f" gen_random_uuid(), {COMMON})",
    "INSERT INTO sample (id, identifier, category, individual_id, uuid, created, modified,"
    " custom_fields, data) SELECT 900000 + s, 'plan' || s,"
    " CASE WHEN s % 2 = 1 THEN 'TUMOR' ELSE 'NORMAL' END, 900001, gen_random_uuid(),"
    f" {COMMON} FROM generate_series(1, 1000) s",
    "INSERT INTO technique (id, method, name, slug, category, reference_data, uuid, created,"
    " modified, custom_fields, data) SELECT 900000 + t, (ARRAY['WG','WE','TR','TD'])[t],"
    " 'plan ' || t, 'plan-' || t, 'DNA', '{}', gen_random_uuid(),"
    f" {COMMON} FROM generate_series(1, 4) t",
    "INSERT INTO project (id, title, sharing, uuid, created, modified, custom_fields, data)"
    f" SELECT 900000 + p, 'plan ' || p, '{{}}', gen_random_uuid(), {COMMON}"
    " FROM generate_series(1, 100) p",
    "INSERT INTO experiment (id, identifier, sample_id, technique_id, bam_files, uuid,"
    " created, modified, custom_fields, data) SELECT 900000 + e, 'plan ' || e,"
    " 900001 + e % 1000, 900001 + e % 4, '{}', gen_random_uuid(),"
    f" {COMMON} FROM generate_series(1, {ROWS}) e",
    "INSERT INTO experiment_project (experiment_id, project_id)"
    f" SELECT 900000 + e, 900001 + (e * 7919) % 100 FROM generate_series(1, {ROWS}) e",
    "ANALYZE center, individual, sample, technique, project, experiment, experiment_project",
]
QUERIES = [
    "limit=100&projects=900005&technique__method=WG&sample__category=TUMOR",
    "limit=100&projects=900005",
    "limit=100&sample=900010",
    "limit=100&technique__method=WG&sample__category=TUMOR&projects=900007&count_limit=10",
]


async def _explain(session: AsyncSession, stmt: Any) -> str:
    sql = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    rows = await session.execute(text(f"EXPLAIN {sql}"))
    return "\n".join(row[0] for row in rows)


async def _plans(session: AsyncSession, query: str) -> dict[str, str]:
    """The plans of a list's statements: its page as the ORM path sends it (loader
    options included: joined eager loads would put a dozen LEFT JOINs into it), as the
    projection path sends it (the pks), and the projection of that page."""
    parsed = parse_list_query(EXPERIMENTS, query)
    window = limit_offset_window(parsed.reserved, default=100, maximum=10000)
    page = apply_window(parsed.ordered, window)
    pks = page.with_only_columns(Experiment.id, maintain_column_froms=True)
    # An empty page is planned on one row (an empty array literal has no type).
    found = list((await session.scalars(pks)).all()) or [900001]
    projection = Projection(EXPERIMENTS.read, Experiment)
    return {
        "orm page": await _explain(session, page.options(*EXPERIMENTS.service.options())),
        "page pks": await _explain(session, pks),
        "projection": await _explain(session, projection.statement.params(pks=found)),
    }


async def test_filtered_experiment_lists_use_indexes(session: AsyncSession, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    for statement in FILL:
        await session.execute(text(statement))
    for query in QUERIES:
        for name, plan in (await _plans(session, query)).items():
            assert "Seq Scan on experiment " not in plan + " ", f"{query}, {name}:\n{plan}"
            assert "Index" in plan, f"{query}, {name}:\n{plan}"
