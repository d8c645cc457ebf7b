"""The demo dataset: a few Isabl objects loaded through the same services the API uses,
and a believable zebrafish facility loaded in bulk (`facility.demo`)."""

from collections.abc import Callable
from typing import Any

from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.services import ModelService
from labapi.core.settings import Settings
from labapi.facility.demo import load_facility
from labapi.isabl import services

DEMO: tuple[tuple[ModelService, dict[str, Any]], ...] = (
    (services.center_service, {"name": "Memorial Sloan Kettering", "acronym": "MSK"}),
    (services.center_service, {"name": "Dana-Farber Cancer Institute", "acronym": "DFCI"}),
    (services.disease_service, {"name": "Acute Myeloid Leukemia", "acronym": "AML"}),
    (services.disease_service, {"name": "Myelodysplastic Syndrome", "acronym": "MDS"}),
    (services.group_service, {"name": "Pediatrics", "acronym": "PEDS"}),
    (services.platform_service, {"manufacturer": "ILLUMINA", "system": "HISEQ", "version": "2500"}),
    (
        services.platform_service,
        {"manufacturer": "ILLUMINA", "system": "NOVASEQ", "version": "6000"},
    ),
    (services.technique_service, {"method": "WG", "name": "Whole Genome 30X", "tags": ["dna"]}),
    (services.technique_service, {"method": "TR", "name": "Total RNA", "tags": ["rna"]}),
    (services.technique_service, {"method": "WE", "name": "Exome Agilent", "tags": ["dna"]}),
    (services.assembly_service, {"name": "GRCh37", "species": "HUMAN"}),
    (services.assembly_service, {"name": "GRCm38", "species": "MOUSE"}),
)


async def load_demo(settings: Settings, progress: Callable[[str], Any] = print) -> int:
    """Get-or-create every demo object in one transaction; return how many were new."""
    engine = create_engine(settings)
    created = 0
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for index, (service, data) in enumerate(DEMO, start=1):
                obj, new = await service.get_or_create(session=session, data=data)
                created += new
                state = "created" if new else "exists "
                progress(f"[{index:>2}/{len(DEMO)}] {state} {obj.model_name} {obj.pk}")
            created += await load_facility(session, progress)
    finally:
        await engine.dispose()
    return created
