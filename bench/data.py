"""Benchmark data: a dedicated PostgreSQL database, migrated, filled by COPY at a scale.

The scale is the number of experiments; the hierarchy around them keeps fixed ratios
(4 experiments per individual: one tumour and one normal sample each, one aliquot per
sample, two experiments per aliquot). Projects hold about a thousand experiments each at
every scale, so an indexed filter on one project returns the same rows whatever the size
of the table. System ids follow `labapi.isabl.services` exactly (a test checks it):
`ISB_H000001`, `ISB_H000001_T01`, `ISB_H000001_T01_01`, `ISB_H000001_T01_01_WG01`.
"""

import asyncio
import datetime as dt
import itertools
import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from labapi.auth.tokens import hash_key
from labapi.core.migrate import upgrade
from labapi.core.models import import_all_models
from labapi.core.settings import Settings
from labapi.isabl.models import METHOD_CATEGORY, slugify

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
CHUNK = 50_000
RAW_DATA = '[{"file_url": "/data/e{e}.fastq.gz", "file_type": "FASTQ_R1"}]'
BENCH_USER = "bench"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

# Share of experiments per method (the rest spread over the other methods): whole
# genomes and exomes dominate a sequencing core.
METHOD_WEIGHTS = {"WG": 0.35, "WE": 0.25, "TR": 0.15, "TD": 0.10}
TABLES = (
    "experiment_tag",
    "experiment_project",
    "experiment",
    "aliquot",
    "sample",
    "individual",
    "project",
    "research_group",
    "technique",
    "platform",
    "disease",
    "center",
    "tag",
)


def stamps(n: int) -> dict[str, dt.datetime]:
    """`created` and `modified` of the n-th row: one second apart, so orderings differ."""
    at = EPOCH + dt.timedelta(seconds=n)
    return {"created": at, "modified": at}


def parse_scale(text: str) -> int:
    """`10k` / `100k` / `1m` (or a plain number of experiments)."""
    key = text.strip().lower()
    if key in SCALES:
        return SCALES[key]
    return int(key.replace("_", ""))


def scale_name(n: int) -> str:
    """The short name of a scale (`100k`)."""
    for name, value in SCALES.items():
        if value == n:
            return name
    return str(n)


def dsn(url: str) -> str:
    """A plain libpq DSN for asyncpg from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Progress:
    """One self-overwriting line of progress on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.start = time.perf_counter()

    def add(self, n: int) -> None:
        """Count `n` more rows and redraw."""
        self.done += n
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed else 0.0
        sys.stderr.write(
            f"\r  {self.label:<20} {self.done:>9,}/{self.total:,} rows  {rate:>9,.0f}/s"
        )
        if self.done >= self.total:
            sys.stderr.write(f"  {elapsed:.1f} s\n")
        sys.stderr.flush()


@dataclass
class Dataset:
    """What the scenarios need to know about the loaded data."""

    scale: int
    token: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    # A few rows to aim at: system ids for detail requests, one nested body, a project.
    detail_ids: list[str] = field(default_factory=list)
    existing_body: dict[str, Any] = field(default_factory=dict)
    write_sample: dict[str, Any] = field(default_factory=dict)
    filter_project: int = 0
    techniques: dict[str, int] = field(default_factory=dict)


async def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    target = make_url(url)
    admin = await asyncpg.connect(dsn(str(target.set(database="postgres"))))
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", target.database
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await admin.close()


class Builder:
    """Turns row dicts into COPY records in the table's column order, defaults filled."""

    def __init__(self, table: str) -> None:
        self.table = import_all_models().tables[table]
        self.columns = [column.name for column in self.table.columns]
        now = EPOCH
        self.static: dict[str, Any] = {
            "custom_fields": "{}",
            "data": "{}",
            "reference_data": "{}",
            "sharing": "{}",
            "bam_files": "{}",
            "created": now,
            "modified": now,
        }

    def record(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """One COPY record."""
        static = self.static
        values = []
        for name in self.columns:
            if name in row:
                values.append(row[name])
            elif name == "uuid":
                values.append(uuid.uuid4())
            else:
                values.append(static.get(name))
        return tuple(values)


async def copy(
    conn: asyncpg.Connection, table: str, rows: Iterable[dict[str, Any]], total: int
) -> None:
    """COPY `rows` into `table` in chunks, with progress."""
    builder = Builder(table)
    progress = Progress(table, total)
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(builder.record(row))
        if len(chunk) == CHUNK:
            await conn.copy_records_to_table(table, records=chunk, columns=builder.columns)
            progress.add(len(chunk))
            chunk = []
    if chunk or not progress.done:
        await conn.copy_records_to_table(table, records=chunk, columns=builder.columns)
        progress.add(len(chunk))


def _methods() -> list[str]:
    return list(METHOD_CATEGORY)


def _pick(rng: random.Random) -> Callable[[], str]:
    methods = _methods()
    rest = [m for m in methods if m not in METHOD_WEIGHTS]
    share = (1 - sum(METHOD_WEIGHTS.values())) / len(rest)
    weights = [METHOD_WEIGHTS.get(m, share) for m in methods]
    cumulative = list(itertools.accumulate(weights))

    def pick() -> str:
        return rng.choices(methods, cum_weights=cumulative)[0]

    return pick


def experiment_system_id(sample_system_id: str, aliquot_number: int, method: str, n: int) -> str:
    """`ExperimentService.after_create`'s rule."""
    return f"{sample_system_id}_{aliquot_number:02d}_{method}{n:02d}"


async def generate(url: str, scale: int, *, seed: int = 8) -> Dataset:
    """Empty the Isabl tables of the benchmark database and fill them at `scale`."""
    settings = Settings(database_url=url)
    prefix = settings.system_id_prefix
    rng = random.Random(seed)
    n_experiments = scale
    n_individuals = max(1, scale // 4)
    n_projects = max(10, scale // 1000)
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        await conn.execute("DELETE FROM auth_user WHERE username = $1", BENCH_USER)
        user_id = await conn.fetchval(
            "INSERT INTO auth_user (username, email, first_name, last_name, password,"
            " is_active, is_superuser, preferences, date_joined)"
            " VALUES ($1, '', '', '', '', true, true, '{}', now()) RETURNING id",
            BENCH_USER,
        )
        base = {"created_by_id": user_id}
        await copy(
            conn,
            "tag",
            ({"id": i, "name": f"tag {i}", "slug": f"tag-{i}"} for i in range(1, 21)),
            20,
        )
        centers = [("Memorial Center", f"MC{i}") for i in range(1, 6)]
        await copy(
            conn,
            "center",
            (
                {**base, "id": i, "name": name, "acronym": acr, "slug": slugify(name, acr)}
                for i, (name, acr) in enumerate(centers, 1)
            ),
            len(centers),
        )
        await copy(
            conn,
            "disease",
            (
                {
                    **base,
                    "id": i,
                    "name": f"Disease {i}",
                    "acronym": f"D{i}",
                    "slug": slugify(f"Disease {i}", f"D{i}"),
                }
                for i in range(1, 11)
            ),
            10,
        )
        platforms = [("ILLUMINA", "HISEQ", str(v)) for v in (2000, 2500, 4000, 4500)]
        await copy(
            conn,
            "platform",
            (
                {
                    **base,
                    "id": i,
                    "manufacturer": m,
                    "system": s,
                    "version": v,
                    "slug": slugify(m, s, v),
                }
                for i, (m, s, v) in enumerate(platforms, 1)
            ),
            len(platforms),
        )
        techniques: dict[str, list[int]] = {}
        technique_rows = []
        for method in _methods():
            for variant in ("standard", "custom"):
                tid = len(technique_rows) + 1
                name = f"{method} {variant}"
                techniques.setdefault(method, []).append(tid)
                technique_rows.append(
                    {
                        **base,
                        "id": tid,
                        "method": method,
                        "name": name,
                        "slug": slugify(name, method),
                        "category": METHOD_CATEGORY[method],
                    }
                )
        await copy(conn, "technique", technique_rows, len(technique_rows))
        await copy(
            conn,
            "research_group",
            (
                {
                    **base,
                    "id": i,
                    "name": f"Group {i}",
                    "acronym": f"G{i}",
                    "slug": slugify(f"Group {i}", f"G{i}"),
                }
                for i in range(1, 6)
            ),
            5,
        )
        await copy(
            conn,
            "project",
            (
                {
                    **base,
                    "id": i,
                    "title": f"Project {i}",
                    "short_title": f"P{i}",
                    "group_id": 1 + i % 5,
                    "owner": "owner@example.org",
                }
                for i in range(1, n_projects + 1)
            ),
            n_projects,
        )

        def individuals() -> Iterator[dict[str, Any]]:
            for i in range(1, n_individuals + 1):
                mouse = i % 10 == 0
                yield {
                    **base,
                    "id": i,
                    "identifier": f"IND{i}",
                    "system_id": f"{prefix}_{'M' if mouse else 'H'}{i:06d}",
                    "species": "MOUSE" if mouse else "HUMAN",
                    "gender": "UNKNOWN",
                    "birth_year": 1950 + i % 60,
                    "center_id": 1 + i % len(centers),
                    **stamps(i),
                }

        def individual_system_id(i: int) -> str:
            return f"{prefix}_{'M' if i % 10 == 0 else 'H'}{i:06d}"

        await copy(conn, "individual", individuals(), n_individuals)
        # Sample 2i-1 is the tumour of individual i, 2i its normal: each the first of its
        # category (T01, N01); aliquot k belongs to sample k and is its first (_01).
        n_samples = 2 * n_individuals

        def sample_system_id(s: int) -> str:
            individual = (s + 1) // 2
            letter = "T" if s % 2 else "N"
            return f"{individual_system_id(individual)}_{letter}01"

        def samples() -> Iterator[dict[str, Any]]:
            for s in range(1, n_samples + 1):
                yield {
                    **base,
                    "id": s,
                    "identifier": f"S{s}",
                    "system_id": sample_system_id(s),
                    "category": "TUMOR" if s % 2 else "NORMAL",
                    "individual_id": (s + 1) // 2,
                    "disease_id": 1 + s % 10 if s % 2 else None,
                    **stamps(s),
                }

        await copy(conn, "sample", samples(), n_samples)
        await copy(
            conn,
            "aliquot",
            (
                {
                    **base,
                    "id": a,
                    "identifier": f"A{a}",
                    "system_id": f"{sample_system_id(a)}_01",
                    "sample_id": a,
                }
                for a in range(1, n_samples + 1)
            ),
            n_samples,
        )
        pick = _pick(rng)
        links: list[tuple[int, int]] = []
        tags: list[tuple[int, int]] = []

        def experiments() -> Iterator[dict[str, Any]]:
            # Experiments go to samples round-robin: the counters live for the whole run.
            numbers: dict[str, int] = {}
            for e in range(1, n_experiments + 1):
                sample = 1 + (e - 1) % n_samples
                method = pick()
                # n numbers the experiments of the sample and aliquot with this method.
                key = f"{sample}:{method}"
                numbers[key] = numbers.get(key, 0) + 1
                first = rng.randint(1, n_projects)
                links.append((e, first))
                if rng.random() < 0.3:
                    second = rng.randint(1, n_projects)
                    if second != first:
                        links.append((e, second))
                if rng.random() < 0.2:
                    tags.append((e, rng.randint(1, 20)))
                yield {
                    **base,
                    "id": e,
                    "identifier": f"E{e}",
                    "system_id": experiment_system_id(
                        sample_system_id(sample), 1, method, numbers[key]
                    ),
                    "sample_id": sample,
                    "aliquot_id": sample,
                    "technique_id": rng.choice(techniques[method]),
                    "platform_id": 1 + e % len(platforms),
                    "center_id": 1 + e % len(centers),
                    "raw_data": RAW_DATA.replace("{e}", str(e)),
                    "storage_usage": 1000 + e,
                    **stamps(e),
                }

        await copy(conn, "experiment", experiments(), n_experiments)
        await copy(
            conn,
            "experiment_project",
            ({"experiment_id": e, "project_id": p} for e, p in links),
            len(links),
        )
        await copy(
            conn, "experiment_tag", ({"experiment_id": e, "tag_id": t} for e, t in tags), len(tags)
        )
        for table in TABLES:
            if table.startswith("experiment_"):
                continue
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        sys.stderr.write("  analysing tables\n")
        await conn.execute("VACUUM ANALYZE")
        await conn.execute(
            f"COMMENT ON DATABASE \"{make_url(url).database}\" IS 'labapi bench scale={scale}'"
        )
    finally:
        await conn.close()
    return await describe(url, scale)


async def loaded_scale(url: str) -> int | None:
    """The scale the benchmark database holds (from its comment), if any."""
    conn = await asyncpg.connect(dsn(url))
    try:
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    if comment and comment.startswith("labapi bench scale="):
        return int(comment.rsplit("=", 1)[1])
    return None


async def prepare(url: str, scale: int, *, regenerate: bool = False) -> Dataset:
    """Create and migrate the database, load `scale` unless it is loaded already."""
    await ensure_database(url)
    # Alembic's env.py runs its own event loop: not inside this one.
    await asyncio.to_thread(upgrade, url)
    if regenerate or await loaded_scale(url) != scale:
        sys.stderr.write(f"generating {scale_name(scale)} experiments\n")
        return await generate(url, scale)
    sys.stderr.write(f"database holds {scale_name(scale)} experiments already\n")
    return await describe(url, scale)


async def describe(url: str, scale: int) -> Dataset:
    """A fresh API key for the bench user and the targets the scenarios aim at."""
    conn = await asyncpg.connect(dsn(url))
    try:
        user_id = await conn.fetchval("SELECT id FROM auth_user WHERE username = $1", BENCH_USER)
        key = secrets.token_hex(20)
        await conn.execute(
            "INSERT INTO auth_token (key_hash, user_id, created, last_used)"
            " VALUES ($1, $2, now(), now())",
            hash_key(key),
            user_id,
        )
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("individual", "sample", "aliquot", "experiment", "project")
        }
        rng = random.Random(scale)
        ids = [rng.randint(1, counts["experiment"]) for _ in range(1000)]
        detail_ids = [
            row["system_id"]
            for row in await conn.fetch(
                "SELECT system_id FROM experiment WHERE id = any($1::int[])", ids
            )
        ]
        row = await conn.fetchrow(
            "SELECT e.identifier, e.technique_id, s.category, s.identifier AS sample,"
            " i.species, i.identifier AS individual, c.name, c.acronym, a.identifier AS aliquot"
            " FROM experiment e JOIN sample s ON s.id = e.sample_id"
            " JOIN individual i ON i.id = s.individual_id JOIN center c ON c.id = i.center_id"
            " JOIN aliquot a ON a.id = e.aliquot_id WHERE e.id = $1",
            max(1, counts["experiment"] // 2),
        )
        techniques = {
            r["method"]: r["id"]
            for r in await conn.fetch("SELECT DISTINCT ON (method) method, id FROM technique")
        }
        project = await conn.fetchval(
            "SELECT project_id FROM experiment_project GROUP BY project_id"
            " ORDER BY count(*) DESC, project_id LIMIT 1"
        )
    finally:
        await conn.close()
    sample = {
        "identifier": row["sample"],
        "category": row["category"],
        "individual": {
            "identifier": row["individual"],
            "species": row["species"],
            "center": {"name": row["name"], "acronym": row["acronym"]},
        },
    }
    existing = {
        "identifier": row["identifier"],
        "sample": sample,
        "aliquot_id": row["aliquot"],
        "technique": {"pk": row["technique_id"]},
    }
    return Dataset(
        scale=scale,
        token=key,
        counts=counts,
        detail_ids=detail_ids,
        existing_body=existing,
        write_sample=sample,
        filter_project=int(project or 1),
        techniques=techniques,
    )
