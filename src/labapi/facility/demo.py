"""A believable facility for `labapi demo`: rooms, racks and positions, 200 fishlines,
2,000 stocks, 10,000 substocks with genotypes, and a year of action log.

Rows go in with bulk `INSERT … RETURNING` (ids assigned by the database, so sequences stay
right), never through HTTP; a `Config` marker row makes a second load create nothing.
"""

import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import User
from labapi.facility import models as m

MARKER = "demo.facility"
SIZES = {"fishlines": 200, "stocks": 2000, "substocks": 10000, "inputs": 20000}
GENES = ("ubi", "kdrl", "fli1", "mpx", "gata1", "hsp70", "elavl3", "myl7", "tp53", "runx1")
REPORTERS = ("GFP", "mCherry", "EGFP", "dsRed", "Kaede", "nls-GFP", "CreERT2")
STATUS_WEIGHTS = {
    "productive": 30, "unproductive": 25, "dead": 25, "merged": 8, "split out": 8,
    "given away": 4,
}  # fmt: skip


async def _bulk(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert rows in one executemany and return their ids, in order."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list((await session.scalars(stmt, list(rows))).all())


async def load_facility(
    session: AsyncSession,
    progress: Callable[[str], Any] = print,
    sizes: dict[str, int] | None = None,
    today: dt.date | None = None,
) -> int:
    """Load the demo facility once; return how many rows were created (0 the second time)."""
    if await session.scalar(select(m.Config.id).where(m.Config.name == MARKER)):
        progress("[facility] already loaded")
        return 0
    n = {**SIZES, **(sizes or {})}
    rng = random.Random(7582)
    today = today or dt.datetime.now(dt.UTC).date()
    created = 0

    async def bulk(label: str, model: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
        nonlocal created
        ids = await _bulk(session, model, rows)
        created += len(ids)
        progress(f"[facility] {label}: {len(ids)} created")
        return ids

    staff = await session.scalar(select(User).where(User.username == "facility"))
    if staff is None:
        staff = User(username="facility", first_name="Facility", last_name="Staff")
        session.add(staff)
        await session.flush()
    lookups: dict[str, list[int]] = {
        "Sex": list((await session.scalars(select(m.Sex.id).order_by(m.Sex.id))).all())
    }
    for model, names in (
        (m.Species, ["zebrafish", "medaka"]),
        (m.Background, ["TU", "AB", "WIK", "casper", "nacre"]),
        (m.Origin, ["in-house", "imported", "ZIRC", "EZRC"]),
        (m.Source, ["Bartunek lab", "ZIRC", "EZRC", "Sanger"]),
        (m.Zygosity, ["+", "-", "+/-", "+/+", "?"]),
        (m.Diet, ["default", "rotifers", "artemia", "dry food"]),
        (m.Light, ["default", "14/10", "dark"]),
        (m.ModCategory, ["transgene", "mutant", "knock-in", "CRISPR"]),
        (m.Workgroup, ["Bartunek", "Machonova", "Imaging", "Facility"]),
        (m.WaterSystem, ["Tecniplast A", "Tecniplast B"]),
        (m.Room, ["F", "G", "Q"]),
    ):
        lookups[model.__name__] = await bulk(
            model.__tablename__, model, [{"name": name} for name in names]
        )
    racks = await bulk(
        "racks",
        m.Rack,
        [
            {"name": f"{r:02d}", "room_id": room, "watersystem_id": lookups["WaterSystem"][0]}
            for room in lookups["Room"]
            for r in range(1, 5)
        ],
    )
    positions = await bulk(
        "positions",
        m.Position,
        [
            {"name": f"{chr(65 + row)}{col:02d}", "rack_id": rack, "width": 1}
            for rack in racks
            for row in range(5)
            for col in range(1, 11)
        ],
    )
    genotype_names = sorted({f"{gene}:{rep}" for gene in GENES for rep in REPORTERS})[:60]
    genotypes = await bulk(
        "genotypes",
        m.Genotype,
        [
            {
                "name": name,
                "promoter": rng.choice([None, None, "-3.5", "-5.3", "-8.0"]),
                "modcategory_id": rng.choice(lookups["ModCategory"]),
            }
            for name in genotype_names
        ],
    )
    fishlines = await bulk(
        "fishlines",
        m.Fishline,
        [
            {
                "name": f"line{i:03d}",
                "description": rng.choice(["", "GMO APPROVED: 2012", "GMO APPROVED: 2019"]),
                "background_id": rng.choice(lookups["Background"]),
                "origin_id": rng.choice(lookups["Origin"]),
                "source_id": rng.choice(lookups["Source"]),
                "species_id": lookups["Species"][0],
                "responsible_id": staff.id,
            }
            for i in range(1, n["fishlines"] + 1)
        ],
    )
    line_genotypes: dict[int, list[int]] = {}
    links = []
    for fishline in fishlines:
        chosen = sorted(rng.sample(genotypes, rng.choice([0, 1, 1, 2, 3])))
        line_genotypes[fishline] = chosen
        links += [{"fishline_id": fishline, "genotype_id": g} for g in chosen]
    if links:
        await session.execute(insert(m.fishline_genotype), links)
    await session.execute(
        insert(m.fishline_workgroup),
        [{"fishline_id": f, "workgroup_id": rng.choice(lookups["Workgroup"])} for f in fishlines],
    )
    progress(f"[facility] fishline genotypes: {len(links)} linked")
    stock_rows, stock_lines = [], []
    numbers: dict[tuple[int, dt.date], int] = {}
    for _ in range(n["stocks"]):
        fishline = rng.choice(fishlines)
        born = today - dt.timedelta(days=rng.randint(5, 900))
        numbers[(fishline, born)] = numbers.get((fishline, born), 0) + 1
        stock_rows.append(
            {
                "fishline_id": fishline,
                "date_of_birth": born,
                "stock_num": numbers[(fishline, born)],
                "generation": rng.choice([None, "F1", "F2", "F3"]),
                "responsible_id": staff.id,
            }
        )
        stock_lines.append(fishline)
    stocks = await bulk("stocks", m.Stock, stock_rows)
    free = list(positions)
    rng.shuffle(free)
    substock_rows, substock_lines = [], []
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for index in range(n["substocks"]):
        slot = index % len(stocks)
        status = rng.choices(statuses, weights)[0]
        alive = status in ("productive", "unproductive")
        substock_rows.append(
            {
                "stock_id": stocks[slot],
                "substock_num": index // len(stocks) + 1,
                "count": rng.randint(1, 60) if alive else 0,
                "status": status,
                "sex_id": rng.choice(lookups["Sex"]) if lookups["Sex"] else None,
                "productivity": rng.choice(["juvenile", "good", "poor", None]),
                "position_id": free.pop() if alive and free else None,
                "diet_id": lookups["Diet"][0],
                "light_id": lookups["Light"][0],
                "current_author_id": staff.id,
            }
        )
        substock_lines.append(stock_lines[slot])
    substocks = await bulk("substocks", m.Substock, substock_rows)
    zygosity_rows = [
        {"substock_id": s, "genotype_id": g, "zygosity_id": rng.choice(lookups["Zygosity"][:3])}
        for s, line in zip(substocks, substock_lines, strict=True)
        for g in line_genotypes[line]
    ]
    await bulk("substock genotypes", m.SubstockGenotype, zygosity_rows)
    kinds = ["count", "transfer", "condition", "productivity", "genotype", "split", "crossing"]
    start = today - dt.timedelta(days=365)
    input_rows = []
    for _ in range(n["inputs"]):
        index = rng.randrange(len(substocks))
        when = start + dt.timedelta(days=rng.randrange(366))
        kind = rng.choice(kinds)
        input_rows.append(
            {
                "type": kind,
                "user_id": staff.id,
                "substock_id": substocks[index],
                "item_type": "substock",
                "item_id": substocks[index],
                "count_at_start": substock_rows[index]["count"],
                "performed": when,
                "created": dt.datetime.combine(when, dt.time(9), tzinfo=dt.UTC)
                + dt.timedelta(minutes=rng.randrange(600)),
                "description": f"demo {kind}",
                "changes": {},
            }
        )
    input_rows.sort(key=lambda row: row["created"])
    await bulk("action log", m.Input, input_rows)
    await bulk("marker", m.Config, [{"name": MARKER, "value": {"sizes": n}}])
    return created
