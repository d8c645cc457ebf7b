"""Benchmark data: a dedicated PostgreSQL database, migrated, filled by COPY at a scale.

The scale is the number of experiments; the hierarchy around them keeps fixed ratios
(4 experiments per individual: one tumour and one normal sample each, one aliquot per
sample, two experiments per aliquot). Projects hold about a thousand experiments each at
every scale, so an indexed filter on one project returns the same rows whatever the size
of the table. System ids follow `labapi.isabl.services` exactly (a test checks it):
`ISB_H000001`, `ISB_H000001_T01`, `ISB_H000001_T01_01`, `ISB_H000001_T01_01_WG01`.

Beside them, at the same scale: one analysis per experiment (its target, sometimes a
second run of the sample, a tumour's normal as reference) and as many facility substocks,
four per stock, a hundred per fishline, each live one in a position of its own.
"""

import asyncio
import datetime as dt
import itertools
import math
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
from labapi.facility.demo import GENES, REPORTERS, STATUS_WEIGHTS
from labapi.isabl.models import METHOD_CATEGORY, AnalysisStatus, slugify

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
CHUNK = 50_000
RAW_DATA = '[{"file_url": "/data/e{e}.fastq.gz", "file_type": "FASTQ_R1"}]'
BENCH_USER = "bench"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# Bumped when the generator fills new tables: a database loaded by an older one reloads.
DATA_VERSION = 2

# Share of experiments per method (the rest spread over the other methods): whole
# genomes and exomes dominate a sequencing core.
METHOD_WEIGHTS = {"WG": 0.35, "WE": 0.25, "TR": 0.15, "TD": 0.10}
# Analyses: mostly finished well, the rest spread over the life cycle.
ANALYSIS_STATUSES = {
    AnalysisStatus.SUCCEEDED: 70, AnalysisStatus.FAILED: 8, AnalysisStatus.CREATED: 4,
    AnalysisStatus.STAGED: 3, AnalysisStatus.SUBMITTED: 4, AnalysisStatus.STARTED: 4,
    AnalysisStatus.IN_PROGRESS: 3, AnalysisStatus.FINISHED: 2, AnalysisStatus.REJECTED: 2,
}  # fmt: skip
# The status each one came from (`previous_status`).
PREVIOUS_STATUS = {
    AnalysisStatus.STAGED: AnalysisStatus.CREATED,
    AnalysisStatus.SUBMITTED: AnalysisStatus.STAGED,
    AnalysisStatus.STARTED: AnalysisStatus.SUBMITTED,
    AnalysisStatus.IN_PROGRESS: AnalysisStatus.STARTED,
    AnalysisStatus.SUCCEEDED: AnalysisStatus.STARTED,
    AnalysisStatus.FAILED: AnalysisStatus.STARTED,
    AnalysisStatus.FINISHED: AnalysisStatus.IN_PROGRESS,
    AnalysisStatus.REJECTED: AnalysisStatus.SUCCEEDED,
}
ASSEMBLIES = (("GRCh37", "HUMAN"), ("GRCm38", "MOUSE"))
# (name, version, assembly id): ids follow this order.
APPLICATIONS = (
    ("bwa-mem", "0.7.17", 1),
    ("bwa-mem", "0.7.17", 2),
    ("mutect", "2.2", 1),
    ("strelka", "2.9.10", 1),
    ("star", "2.7.10", 1),
    ("qc-report", "1.0", None),
    ("cohort-merge", "1.0", None),
)
BWA_HUMAN, BWA_MOUSE, MUTECT, STRELKA, STAR, QC, MERGE = range(1, len(APPLICATIONS) + 1)
# Facility lookups by table; facility_sex keeps the three rows its migration seeds.
FACILITY_LOOKUPS = {
    "facility_species": ("zebrafish", "medaka"),
    "facility_background": ("TU", "AB", "WIK", "casper", "nacre"),
    "facility_origin": ("in-house", "imported", "ZIRC", "EZRC"),
    "facility_source": ("Bartunek lab", "ZIRC", "EZRC", "Sanger"),
    "facility_zygosity": ("+", "-", "+/-", "+/+", "?"),
    "facility_diet": ("default", "rotifers", "artemia", "dry food"),
    "facility_light": ("default", "14/10", "dark"),
    "facility_modcategory": ("transgene", "mutant", "knock-in", "CRISPR"),
    "facility_workgroup": ("Bartunek", "Machonova", "Imaging", "Facility"),
    "facility_watersystem": ("Tecniplast A", "Tecniplast B"),
}
LOG_TYPES = ("count", "transfer", "condition", "productivity", "genotype", "split", "crossing")
# A rack has rows x columns positions; rooms hold RACKS_PER_ROOM racks.
RACK_ROWS, RACK_COLUMNS, RACKS_PER_ROOM = 5, 10, 20
# The tables counted in the report, by the name the report gives them.
COUNTED = {
    "individual": "individual",
    "sample": "sample",
    "aliquot": "aliquot",
    "experiment": "experiment",
    "project": "project",
    "analysis": "analysis",
    "fishline": "facility_fishline",
    "stock": "facility_stock",
    "substock": "facility_substock",
}
TABLES = (
    "facility_input",
    "facility_substock_tag",
    "facility_substockgenotype",
    "facility_substock",
    "facility_stock",
    "facility_fishline_genotype",
    "facility_fishline_owner",
    "facility_fishline_workgroup",
    "facility_fishline",
    "facility_genotype",
    "facility_position",
    "facility_rack",
    "facility_room",
    "facility_experiment",
    "facility_project",
    "facility_tag",
    *reversed(FACILITY_LOOKUPS),
    "analysis_reference",
    "analysis_target",
    "analysis",
    "application",
    "assembly",
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
            f"\r  {self.label:<28} {self.done:>9,}/{self.total:,} rows  {rate:>9,.0f}/s"
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
    # Experiments targeted by a finished analysis (SUCCEEDED or FAILED).
    analysis_targets: list[int] = field(default_factory=list)


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
    """Turns row dicts into COPY records in the table's column order, defaults filled:
    the model's scalar defaults (`active`, `width`, …), empty JSON objects, the epoch."""

    def __init__(self, table: str) -> None:
        self.table = import_all_models().tables[table]
        self.columns = [column.name for column in self.table.columns]
        now = EPOCH
        self.static: dict[str, Any] = {
            column.name: column.default.arg
            for column in self.table.columns
            if column.default is not None and column.default.is_scalar
        }
        self.static |= dict.fromkeys(
            ("custom_fields", "data", "reference_data", "sharing", "bam_files", "results",
             "settings", "changes", "value"),
            "{}",
        )  # fmt: skip
        self.static |= {"created": now, "modified": now, "updated": now}

    def check(self, row: dict[str, Any]) -> None:
        """A key that names no column would be dropped without a word: refuse it."""
        unknown = row.keys() - set(self.columns)
        if unknown:
            raise KeyError(f"{self.table.name} has no column {', '.join(sorted(unknown))}")

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
    for n, row in enumerate(rows):
        if not n:
            builder.check(row)
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


def analysis_stamps(at: dt.datetime, status: AnalysisStatus, rng: random.Random) -> dict[str, Any]:
    """The life-cycle fields of an analysis created at `at` and now at `status`, as the
    service's transitions leave them (submitted, then started, then finished)."""
    row: dict[str, Any] = {"status": status, "previous_status": PREVIOUS_STATUS.get(status)}
    if status in (AnalysisStatus.CREATED, AnalysisStatus.STAGED):
        return row | {"modified": at}
    submitted = at + dt.timedelta(minutes=10)
    row["submitted"] = row["modified"] = submitted
    if status == AnalysisStatus.SUBMITTED:
        return row
    wait, run = rng.randint(1, 120), rng.randint(10, 600)
    started = submitted + dt.timedelta(minutes=wait)
    row |= {"started": started, "modified": started, "wait_time": float(wait)}
    if status == AnalysisStatus.STARTED:
        return row
    finished = started + dt.timedelta(minutes=run)
    return row | {"finished": finished, "modified": finished, "run_time": float(run)}


async def copy_analyses(
    conn: asyncpg.Connection,
    rng: random.Random,
    base: dict[str, Any],
    n_experiments: int,
    n_samples: int,
    n_projects: int,
) -> None:
    """Assemblies, applications and one analysis per experiment, then one cohort merge
    per project.

    Analysis a targets experiment a; a fifth also target the sample's next experiment
    (experiments go to samples round-robin: e + n_samples); most tumour ones have the
    normal of the same individual (experiment a + 1, on sample s + 1) as reference.
    """
    await copy(
        conn,
        "assembly",
        (
            {**base, "id": i, "name": name, "species": species}
            for i, (name, species) in enumerate(ASSEMBLIES, 1)
        ),
        len(ASSEMBLIES),
    )
    await copy(
        conn,
        "application",
        (
            {
                **base,
                "id": i,
                "name": name,
                "version": version,
                "assembly_id": assembly,
                "application_class": f"apps.{name.replace('-', '_')}.App",
            }
            for i, (name, version, assembly) in enumerate(APPLICATIONS, 1)
        ),
        len(APPLICATIONS),
    )
    statuses = list(ANALYSIS_STATUSES)
    cumulative = list(itertools.accumulate(ANALYSIS_STATUSES.values()))
    # Analyses with a second target, with a reference: the links follow from the ids.
    seconds: list[int] = []
    paired: list[int] = []

    def analyses() -> Iterator[dict[str, Any]]:
        for a in range(1, n_experiments + 1):
            sample = 1 + (a - 1) % n_samples
            if a + n_samples <= n_experiments and rng.random() < 0.2:
                seconds.append(a)
            if sample % 2 == 1 and a < n_experiments and rng.random() < 0.6:
                paired.append(a)
                application = rng.choice((MUTECT, STRELKA))
            elif (sample + 1) // 2 % 10 == 0:  # a mouse individual
                application = BWA_MOUSE
            else:
                application = rng.choice((BWA_HUMAN, BWA_HUMAN, STAR, QC))
            status = rng.choices(statuses, cum_weights=cumulative)[0]
            at = EPOCH + dt.timedelta(seconds=a, hours=1)
            yield {
                **base,
                "id": a,
                "application_id": application,
                "ran_by": BENCH_USER,
                "results": f'{{"output": "/data/analyses/{a}/result.vcf"}}'
                if status == AnalysisStatus.SUCCEEDED
                else "{}",
                "storage_url": f"/data/analyses/{a}",
                "storage_usage": 5000 + a,
                "created": at,
                **analysis_stamps(at, status, rng),
            }
        for p in range(1, n_projects + 1):
            at = EPOCH + dt.timedelta(seconds=n_experiments + p, hours=2)
            yield {
                **base,
                "id": n_experiments + p,
                "application_id": MERGE,
                "project_level_analysis_id": p,
                "ran_by": BENCH_USER,
                "storage_url": f"/data/projects/{p}/merge",
                "created": at,
                **analysis_stamps(at, AnalysisStatus.SUCCEEDED, rng),
            }

    await copy(conn, "analysis", analyses(), n_experiments + n_projects)

    def targets() -> Iterator[dict[str, Any]]:
        second = set(seconds)
        for a in range(1, n_experiments + 1):
            yield {"analysis_id": a, "experiment_id": a}
            if a in second:
                yield {"analysis_id": a, "experiment_id": a + n_samples}

    await copy(conn, "analysis_target", targets(), n_experiments + len(seconds))
    await copy(
        conn,
        "analysis_reference",
        ({"analysis_id": a, "experiment_id": a + 1} for a in paired),
        len(paired),
    )


def named(names: Iterable[str], **extra: Any) -> Iterator[dict[str, Any]]:
    """Rows of a facility lookup: ids from 1 in the order of `names`."""
    for i, name in enumerate(names, 1):
        yield {"id": i, "name": name, **extra}


async def copy_facility(
    conn: asyncpg.Connection, rng: random.Random, user_id: int, n_substocks: int
) -> None:
    """The facility at `n_substocks`: lookups, genotypes, a fishline per 100 substocks, a
    stock per 4 (substock s belongs to stock 1 + (s - 1) % n_stocks), rooms of racks of
    positions with one position for each live substock, and an action-log record for
    every other substock. Every row is active; ids start at 1."""
    today = dt.datetime.now(dt.UTC).date()
    n_stocks = max(1, n_substocks // 4)
    n_fishlines = max(10, n_substocks // 100)
    n_genotypes = max(20, n_fishlines // 2)
    lookups: dict[str, int] = {}
    for table, names in FACILITY_LOOKUPS.items():
        lookups[table] = len(names)
        await copy(conn, table, named(names), len(names))
    sexes = [r["id"] for r in await conn.fetch("SELECT id FROM facility_sex ORDER BY id")]

    def some(table: str) -> int:
        return rng.randint(1, lookups[table])

    colours = ("primary", "success", "danger", "warning", "info")
    tags = [
        (f"tag {i}", f'<span class="badge bg-{c}">{i}</span>') for i, c in enumerate(colours, 1)
    ]
    await copy(
        conn,
        "facility_tag",
        ({"id": i, "name": name, "html": html} for i, (name, html) in enumerate(tags, 1)),
        len(tags),
    )
    n_projects = 10
    await copy(
        conn,
        "facility_project",
        (
            {"id": i, "name": f"Project {i}", "code": f"P{i}", "workgroup_id": 1 + i % 4}
            for i in range(1, n_projects + 1)
        ),
        n_projects,
    )
    n_experiments = 2 * n_projects
    await copy(
        conn,
        "facility_experiment",
        (
            {"id": i, "name": f"Experiment {i}", "code": f"X{i}", "project_id": 1 + i % n_projects}
            for i in range(1, n_experiments + 1)
        ),
        n_experiments,
    )
    # Every live substock gets a position of its own: room > rack > position.
    live_share = sum(w for s, w in STATUS_WEIGHTS.items() if s in ("productive", "unproductive"))
    per_rack = RACK_ROWS * RACK_COLUMNS
    # 5 % more than the expected live share: statuses are drawn at random.
    needed = n_substocks * live_share * 1.05 / sum(STATUS_WEIGHTS.values())
    n_racks = max(1, math.ceil(needed / per_rack))
    n_rooms = -(-n_racks // RACKS_PER_ROOM)
    await copy(conn, "facility_room", named(f"F{r:03d}" for r in range(1, n_rooms + 1)), n_rooms)
    await copy(
        conn,
        "facility_rack",
        (
            {
                "id": k,
                "name": f"{1 + (k - 1) % RACKS_PER_ROOM:02d}",
                "room_id": 1 + (k - 1) // RACKS_PER_ROOM,
                "watersystem_id": 1 + k % lookups["facility_watersystem"],
                "rows": RACK_ROWS,
                "columns": RACK_COLUMNS,
            }
            for k in range(1, n_racks + 1)
        ),
        n_racks,
    )
    n_positions = n_racks * per_rack
    await copy(
        conn,
        "facility_position",
        (
            {
                "id": p,
                "name": f"{chr(65 + (p - 1) % per_rack // RACK_COLUMNS)}"
                f"{1 + (p - 1) % RACK_COLUMNS:02d}",
                "rack_id": 1 + (p - 1) // per_rack,
            }
            for p in range(1, n_positions + 1)
        ),
        n_positions,
    )
    pairs = [(gene, reporter) for gene in GENES for reporter in REPORTERS]

    def genotype_name(g: int) -> str:
        """`ubi:GFP`, then `ubi2:GFP` once every pair is taken."""
        (gene, reporter), round_ = pairs[(g - 1) % len(pairs)], (g - 1) // len(pairs)
        return f"{gene}{round_ + 1 if round_ else ''}:{reporter}"

    await copy(
        conn,
        "facility_genotype",
        (
            {
                "id": g,
                "name": genotype_name(g),
                "promoter": rng.choice((None, None, "-3.5", "-5.3", "-8.0")),
                "modcategory_id": some("facility_modcategory"),
            }
            for g in range(1, n_genotypes + 1)
        ),
        n_genotypes,
    )
    await copy(
        conn,
        "facility_fishline",
        (
            {
                "id": f,
                "name": f"line{f:05d}",
                "description": rng.choice(("", "GMO APPROVED: 2012", "GMO APPROVED: 2019")),
                "background_id": some("facility_background"),
                "origin_id": some("facility_origin"),
                "source_id": some("facility_source"),
                "species_id": 1,
                "responsible_id": user_id,
            }
            for f in range(1, n_fishlines + 1)
        ),
        n_fishlines,
    )
    line_genotypes = [
        sorted(rng.sample(range(1, n_genotypes + 1), rng.choice((0, 1, 1, 2, 3))))
        for _ in range(n_fishlines)
    ]
    links = [(f, g) for f, chosen in enumerate(line_genotypes, 1) for g in chosen]
    await copy(
        conn,
        "facility_fishline_genotype",
        ({"fishline_id": f, "genotype_id": g} for f, g in links),
        len(links),
    )
    await copy(
        conn,
        "facility_fishline_owner",
        ({"fishline_id": f, "user_id": user_id} for f in range(1, n_fishlines + 1)),
        n_fishlines,
    )
    await copy(
        conn,
        "facility_fishline_workgroup",
        ({"fishline_id": f, "workgroup_id": 1 + f % 4} for f in range(1, n_fishlines + 1)),
        n_fishlines,
    )
    # Stock numbers count the stocks of a fishline born the same day (`StockService`).
    stock_lines = [rng.randint(1, n_fishlines) for _ in range(n_stocks)]
    births = [today - dt.timedelta(days=rng.randint(5, 1500)) for _ in range(n_stocks)]

    def stocks() -> Iterator[dict[str, Any]]:
        numbers: dict[tuple[int, dt.date], int] = {}
        for k, (fishline, born) in enumerate(zip(stock_lines, births, strict=True), 1):
            numbers[(fishline, born)] = numbers.get((fishline, born), 0) + 1
            yield {
                "id": k,
                "fishline_id": fishline,
                "date_of_birth": born,
                "stock_num": numbers[(fishline, born)],
                "local_stock_id": str(k),
                "generation": rng.choice((None, "F1", "F2", "F3")),
                "responsible_id": user_id,
            }

    await copy(conn, "facility_stock", stocks(), n_stocks)
    statuses, weights = list(STATUS_WEIGHTS), list(itertools.accumulate(STATUS_WEIGHTS.values()))
    free = list(range(1, n_positions + 1))
    rng.shuffle(free)
    counts: list[int] = []
    tagged: list[tuple[int, int]] = []

    def substocks() -> Iterator[dict[str, Any]]:
        for s in range(1, n_substocks + 1):
            stock = 1 + (s - 1) % n_stocks
            status = rng.choices(statuses, cum_weights=weights)[0]
            alive = status in ("productive", "unproductive")
            count = rng.randint(1, 60) if alive else 0
            counts.append(count)
            tag = rng.randint(1, len(tags)) if rng.random() < 0.1 else None
            if tag is not None:
                tagged.append((s, tag))
            born = births[stock - 1]
            yield {
                "id": s,
                "stock_id": stock,
                "substock_num": 1 + (s - 1) // n_stocks,
                "count": count,
                "status": status,
                "sex_id": rng.choice(sexes) if sexes else None,
                "productivity": rng.choice(("juvenile", "good", "poor", None)),
                "date_of_death": min(today, born + dt.timedelta(days=120))
                if status == "dead"
                else None,
                "position_id": free.pop() if alive and free else None,
                "diet_id": 1,
                "light_id": 1,
                "project_id": rng.randint(1, n_projects) if rng.random() < 0.2 else None,
                "experiment_id": rng.randint(1, n_experiments) if rng.random() < 0.1 else None,
                "dominant_tag_id": tag,
                "current_author_id": user_id,
                "updated": dt.datetime.combine(born, dt.time(9), tzinfo=dt.UTC),
            }

    def genotypes(s: int) -> list[int]:
        """The genotypes of substock s: its fishline's."""
        return line_genotypes[stock_lines[(s - 1) % n_stocks] - 1]

    def zygosities() -> Iterator[dict[str, Any]]:
        pairs = ((s, g) for s in range(1, n_substocks + 1) for g in genotypes(s))
        for i, (s, g) in enumerate(pairs, 1):
            yield {"id": i, "substock_id": s, "genotype_id": g, "zygosity_id": rng.randint(1, 3)}

    await copy(conn, "facility_substock", substocks(), n_substocks)
    n_zygosities = sum(len(genotypes(s)) for s in range(1, n_substocks + 1))
    await copy(conn, "facility_substockgenotype", zygosities(), n_zygosities)
    await copy(
        conn,
        "facility_substock_tag",
        ({"substock_id": s, "tag_id": t} for s, t in tagged),
        len(tagged),
    )
    # The log of the last year, oldest first: ids follow time, as records are appended.
    n_inputs = n_substocks // 2
    start = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(), tzinfo=dt.UTC)
    step = dt.timedelta(days=365) / max(1, n_inputs)

    def inputs() -> Iterator[dict[str, Any]]:
        for i in range(1, n_inputs + 1):
            substock = rng.randint(1, n_substocks)
            kind = rng.choice(LOG_TYPES)
            at = start + step * i
            yield {
                "id": i,
                "type": kind,
                "user_id": user_id,
                "substock_id": substock,
                "item_type": "substock",
                "item_id": substock,
                "count_at_start": counts[substock - 1],
                "description": f"bench {kind}",
                "created": at,
                "performed": at.date(),
            }

    await copy(conn, "facility_input", inputs(), n_inputs)


async def generate(url: str, scale: int, *, seed: int = 8) -> Dataset:
    """Empty the Isabl tables of the benchmark database and fill them at `scale`."""
    settings = Settings(database_url=url)
    prefix = settings.system_id_prefix
    rng = random.Random(seed)
    n_experiments = scale
    n_individuals = max(1, scale // 4)
    n_projects = max(10, scale // 1000)
    conn = await asyncpg.connect(dsn(url))
    started = time.perf_counter()
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
        # Free the link lists: the next tables need the memory at 1m.
        links.clear()
        tags.clear()
        await copy_analyses(conn, rng, base, n_experiments, n_samples, n_projects)
        await copy_facility(conn, rng, user_id, scale)
        tables = import_all_models().tables
        for table in TABLES:
            if "id" not in tables[table].c:
                continue
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        sys.stderr.write("  analysing tables\n")
        await conn.execute("VACUUM ANALYZE")
        sys.stderr.write(f"  generated in {time.perf_counter() - started:.1f} s\n")
        await conn.execute(
            f'COMMENT ON DATABASE "{make_url(url).database}"'
            f" IS 'labapi bench data={DATA_VERSION} scale={scale}'"
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
    if comment and comment.startswith(f"labapi bench data={DATA_VERSION} scale="):
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
            name: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for name, table in COUNTED.items()
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
        # A few experiments from the middle of the table, each with a finished analysis.
        targets = await conn.fetch(
            "SELECT DISTINCT t.experiment_id FROM analysis_target t"
            " JOIN analysis a ON a.id = t.analysis_id"
            " WHERE a.status IN ('SUCCEEDED', 'FAILED') AND t.experiment_id >= $1"
            " ORDER BY t.experiment_id LIMIT 3",
            counts["experiment"] // 2,
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
        analysis_targets=[r["experiment_id"] for r in targets],
    )
