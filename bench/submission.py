"""Time the commit of a 5,000-row submission form on PostgreSQL (target: under 30 s).

    .venv/bin/python bench/submission.py [--rows 5000] [--url postgresql+asyncpg://...]

Runs the real app over HTTP (httpx on the ASGI app, real sessions and commits) in a
PostgreSQL schema of its own, dropped at the end: migrate, create the reference objects,
upload the form, dry-run it, then time `submissions/process/<id>` with `{"commit": true}`.
Prints one line per phase and a last line `submission_commit_seconds=<s> rows_per_second=<r>`
for `make bench` to pick up. Not a test: nothing here asserts a time.
"""

import argparse
import asyncio
import io
import os
import secrets
import shutil
import sys
import tempfile
import time

import httpx
import openpyxl
from sqlalchemy import text

from labapi.auth.models import User
from labapi.auth.tokens import issue_token
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.migrate import upgrade
from labapi.core.settings import Settings
from labapi.importers.submission import COLUMNS
from labapi.isabl.models import Center, Disease, Method, Platform, Project, Technique
from labapi.main import create_app

DEFAULT_URL = os.environ.get(
    "LABAPI_BENCH_DATABASE_URL",
    os.environ.get("LABAPI_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def form(rows: int) -> bytes:
    """A form of `rows` experiments: two per sample, one sample per individual, aliquots."""
    # A normal workbook, as Excel writes it: with a <dimension> element (write-only ones
    # have none, and openpyxl's read-only mode then scans the whole sheet once more).
    book = openpyxl.Workbook()
    sheet = book.active
    header = [column.key for column in COLUMNS]
    sheet.append(header)
    for n in range(rows):
        patient = n // 2
        values = {
            "individual_identifier": f"BENCH-{patient}",
            "species": "HUMAN",
            "center": "BEN",
            "gender": "FEMALE" if patient % 2 else "MALE",
            "birth_year": 1950 + patient % 50,
            "sample_identifier": f"BENCH-{patient}-T",
            "category": "TUMOR",
            "disease": "AML",
            "collection_days": 100,
            "aliquot_identifier": f"BENCH-{patient}-T-A1",
            "experiment_identifier": f"BENCH-{n}-RUN",
            "technique": "Whole Genome",
            "platform": "ILLUMINA HISEQ 2500",
            "projects": None,
            "experiment_notes": None,
        }
        sheet.append([values[key] for key in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def run(url: str, rows: int) -> float:
    """Set up a schema, submit the form, return the commit's seconds."""
    schema = f"labapi_bench_{secrets.token_hex(4)}"
    base = Settings(database_url=url, secret_key="bench")
    admin = create_engine(base)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    media = tempfile.mkdtemp(prefix="labapi-bench-")
    settings = base.model_copy(update={"database_schema": schema, "media_root": media})
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: upgrade(connection=sync_conn))
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            user = User(username="bench", password="", is_superuser=True)
            session.add_all(
                [
                    user,
                    Center(name="Bench Center", acronym="BEN", slug="bench-center-ben"),
                    Technique(
                        name="Whole Genome",
                        method=Method.WG,
                        slug="whole-genome-wg",
                        category="DNA",
                    ),
                    Platform(
                        manufacturer="ILLUMINA",
                        system="HISEQ",
                        version="2500",
                        slug="illumina-hiseq-2500",
                    ),
                    Disease(name="Acute Myeloid Leukemia", acronym="AML", slug="aml"),
                    Project(title="Bench"),
                ]
            )
            await session.flush()
            key = await issue_token(session, user)
            project = (await session.execute(text("SELECT id FROM project"))).scalar_one()
            await session.commit()

        app = create_app(settings)
        started = time.perf_counter()
        content = form(rows)
        print(f"form: {rows} rows, {len(content)} bytes in {time.perf_counter() - started:.2f} s")
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app) as state,
            httpx.AsyncClient(
                transport=transport,
                base_url="http://bench",
                headers={"Authorization": f"Token {key}"},
                timeout=600,
            ) as client,
        ):
            # ASGITransport skips lifespan: hand the state over as the server would.
            transport.app = _with_state(app, state)
            response = await client.post(
                "/api/v1/submissions",
                data={"description": "bench", "projects": [str(project)]},
                files={"submission_form": ("bench.xlsx", content, XLSX)},
            )
            response.raise_for_status()
            pk = response.json()["pk"]
            for commit in (False, True):
                started = time.perf_counter()
                response = await client.post(
                    f"/api/v1/submissions/process/{pk}", json={"commit": commit}
                )
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                report = response.json()["data"]
                if report["error_count"]:
                    sys.exit(f"the form has errors: {report['errors'][:3]}")
                print(
                    f"{'commit' if commit else 'dry run'}: {elapsed:.2f} s, "
                    f"{rows / elapsed:.0f} rows/s, status {report['status']}, "
                    f"summary {report['summary']}"
                )
        return elapsed
    finally:
        shutil.rmtree(media, ignore_errors=True)
        await engine.dispose()
        admin = create_engine(base)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def _with_state(app: object, state: object) -> object:
    async def with_state(scope: dict, receive: object, send: object) -> None:
        scope["state"] = dict(state or {})  # type: ignore[call-overload]
        await app(scope, receive, send)  # type: ignore[operator]

    return with_state


def main() -> None:
    """Parse the arguments, run the benchmark, print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        sys.exit("the benchmark is for PostgreSQL (--url postgresql+asyncpg://...)")
    seconds = asyncio.run(run(args.url, args.rows))
    print(f"submission_commit_seconds={seconds:.2f} rows_per_second={args.rows / seconds:.0f}")


if __name__ == "__main__":
    main()
