"""A small facility built through the ORM: two rooms, racks and positions, fishlines with
and without genotypes, stocks and substocks whose names the reference's queries find."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.facility import models as m


@dataclass
class Facility:
    """The objects of the small facility, by short name."""

    objects: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.objects[name]


async def build_facility(session: AsyncSession) -> Facility:
    """Rooms F and G, racks 09 and 01, fishlines `ubi:GFP` (one genotype), `wt` (none),
    `abc:B52-E55` and `abc:B52`; seven substocks in four stocks."""
    f = Facility()
    o = f.objects
    unknown = await session.scalar(select(m.Sex).where(m.Sex.name == "unknown"))
    o["sex"] = unknown
    o["zebrafish"] = m.Species(name="zebrafish", settings={"maturity": {"larva": 3, "adult": 90}})
    o["tu"] = m.Background(name="TU")
    o["plus"] = m.Zygosity(name="+")
    o["minus"] = m.Zygosity(name="-")
    o["gfp"] = m.Genotype(name="ubi:GFP", promoter="-3.5")
    o["mcherry"] = m.Genotype(name="kdrl:mCherry")
    o["group"] = m.Workgroup(name="Bartunek")
    o["room_f"] = m.Room(name="F")
    o["room_g"] = m.Room(name="G")
    session.add_all(list(o.values()))
    await session.flush()
    o["rack_09"] = m.Rack(name="09", room_id=o["room_f"].id)
    o["rack_01"] = m.Rack(name="01", room_id=o["room_g"].id)
    session.add_all([o["rack_09"], o["rack_01"]])
    await session.flush()
    o["e01"] = m.Position(name="E01", rack_id=o["rack_09"].id)
    o["a145"] = m.Position(name="A145", rack_id=o["rack_01"].id, width=2)
    session.add_all([o["e01"], o["a145"]])
    o["ubi"] = m.Fishline(
        name="ubi:GFP",
        description="GMO APPROVED: 2012",
        background_id=o["tu"].id,
        species_id=o["zebrafish"].id,
        genotypes=[o["gfp"]],
        workgroups=[o["group"]],
    )
    o["wt"] = m.Fishline(name="wt", species_id=o["zebrafish"].id)
    o["abc_e55"] = m.Fishline(name="abc:B52-E55", genotypes=[o["gfp"], o["mcherry"]])
    o["abc"] = m.Fishline(name="abc:B52", genotypes=[o["mcherry"]])
    session.add_all([o["ubi"], o["wt"], o["abc_e55"], o["abc"]])
    await session.flush()
    births = {
        "st_ubi": ("ubi", dt.date(2023, 12, 13), "7582"),
        "st_wt": ("wt", dt.date(2024, 1, 5), "145"),
        "st_e55": ("abc_e55", dt.date(2024, 2, 1), None),
        "st_abc": ("abc", dt.date(2024, 2, 1), None),
    }
    for key, (line, born, local) in births.items():
        o[key] = m.Stock(fishline_id=o[line].id, date_of_birth=born, local_stock_id=local)
        session.add(o[key])
    await session.flush()
    substocks = {
        "ss_ubi": ("st_ubi", 45, "unproductive", "e01", 12),
        "ss_ubi_dead": ("st_ubi", 10, "dead", None, 13),
        "ss_wt": ("st_wt", 10, "productive", "a145", 1),
        "ss_wt_merged": ("st_wt", 10, "merged", None, 2),
        "ss_wt_split": ("st_wt", 3, "split out", None, 3),
        "ss_e55": ("st_e55", 7, "productive", None, 1),
        "ss_abc": ("st_abc", 10, "productive", None, 1),
    }
    for key, (stock, count, status, position, num) in substocks.items():
        o[key] = m.Substock(
            stock_id=o[stock].id,
            count=count,
            status=status,
            position_id=o[position].id if position else None,
            substock_num=num,
            sex_id=unknown.id if unknown else None,
        )
        session.add(o[key])
    await session.flush()
    session.add(
        m.SubstockGenotype(
            substock_id=o["ss_ubi"].id, genotype_id=o["gfp"].id, zygosity_id=o["plus"].id
        )
    )
    session.add_all(
        [
            m.SubstockGenotype(
                substock_id=o["ss_e55"].id, genotype_id=o["gfp"].id, zygosity_id=o["plus"].id
            ),
            m.SubstockGenotype(
                substock_id=o["ss_e55"].id,
                genotype_id=o["mcherry"].id,
                zygosity_id=o["minus"].id,
            ),
        ]
    )
    o["deleted"] = m.Substock(stock_id=o["st_wt"].id, substock_num=9, active=False)
    session.add(o["deleted"])
    await session.flush()
    return f


@pytest.fixture
async def facility(session: AsyncSession) -> Facility:
    """The small facility, in the test's transaction."""
    return await build_facility(session)
