"""Small async builders of Isabl rows: `await make_center(session, **overrides)` adds and
flushes one object with unique defaults, as the service would have stored it (slugs and
technique categories derived the same way)."""

import itertools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import User
from labapi.isabl.models import (
    METHOD_CATEGORY,
    Aliquot,
    Analysis,
    AnalysisRef,
    AnalysisStatus,
    Application,
    Assembly,
    Center,
    Client,
    CustomField,
    Disease,
    Experiment,
    Group,
    Individual,
    Method,
    Platform,
    Project,
    Sample,
    SampleCategory,
    Signal,
    SignalEndpoint,
    Species,
    Submission,
    Tag,
    Technique,
    slugify,
)

T = TypeVar("T")
_numbers = itertools.count(1)


def unique() -> int:
    """A number no other factory call in this run returned."""
    return next(_numbers)


async def save(session: AsyncSession, obj: T) -> T:
    """Add and flush `obj`."""
    session.add(obj)
    await session.flush()
    return obj


async def make_user(session: AsyncSession, **overrides: Any) -> User:
    """A user (the `created_by` of other objects)."""
    values: dict[str, Any] = {"username": f"user{unique()}"} | overrides
    return await save(session, User(**values))


async def make_tag(session: AsyncSession, **overrides: Any) -> Tag:
    """A tag; the slug follows the name."""
    values: dict[str, Any] = {"name": f"tag {unique()}"} | overrides
    values.setdefault("slug", slugify(values["name"]))
    return await save(session, Tag(**values))


def _isabl(values: dict[str, Any]) -> dict[str, Any]:
    values.setdefault("tags", [])
    return values


async def make_center(session: AsyncSession, **overrides: Any) -> Center:
    """A center; the slug is made of name and acronym."""
    n = unique()
    values = _isabl({"name": f"Center {n}", "acronym": f"C{n}"} | overrides)
    values.setdefault("slug", slugify(values["name"], values["acronym"]))
    return await save(session, Center(**values))


async def make_disease(session: AsyncSession, **overrides: Any) -> Disease:
    """A disease; the slug is made of name and acronym."""
    n = unique()
    values = _isabl({"name": f"Disease {n}", "acronym": f"D{n}"} | overrides)
    values.setdefault("slug", slugify(values["name"], values["acronym"]))
    return await save(session, Disease(**values))


async def make_group(session: AsyncSession, **overrides: Any) -> Group:
    """A research group; the slug is made of name and acronym."""
    n = unique()
    values = _isabl({"name": f"Group {n}", "acronym": f"G{n}"} | overrides)
    values.setdefault("slug", slugify(values["name"], values["acronym"]))
    return await save(session, Group(**values))


async def make_platform(session: AsyncSession, **overrides: Any) -> Platform:
    """A platform; the slug is made of manufacturer, system and version."""
    n = unique()
    values = _isabl(
        {"manufacturer": f"Maker {n}", "system": f"System {n}", "version": f"{n}.0"} | overrides
    )
    values.setdefault("slug", slugify(values["manufacturer"], values["system"], values["version"]))
    return await save(session, Platform(**values))


async def make_technique(session: AsyncSession, **overrides: Any) -> Technique:
    """A technique; slug from name and method, category from method."""
    values = _isabl({"name": f"Technique {unique()}", "method": Method.WG} | overrides)
    method = Method(values["method"])
    values["method"] = method
    values.setdefault("slug", slugify(values["name"], method.value))
    values.setdefault("category", METHOD_CATEGORY[method.value])
    return await save(session, Technique(**values))


async def make_assembly(session: AsyncSession, **overrides: Any) -> Assembly:
    """A genome assembly."""
    values = _isabl({"name": f"GRCh{unique()}", "species": Species.HUMAN} | overrides)
    values["species"] = Species(values["species"])
    return await save(session, Assembly(**values))


async def make_individual(session: AsyncSession, **overrides: Any) -> Individual:
    """An individual of a new center, with a system id."""
    n = unique()
    values = _isabl({"identifier": f"individual {n}", "species": Species.HUMAN} | overrides)
    values["species"] = Species(values["species"])
    if "center" not in values:
        values["center"] = await make_center(session)
    values.setdefault("system_id", f"TST_H{n:06d}")
    return await save(session, Individual(**values))


async def make_sample(session: AsyncSession, **overrides: Any) -> Sample:
    """A tumor sample of a new individual."""
    n = unique()
    values = _isabl({"identifier": f"sample {n}", "category": SampleCategory.TUMOR} | overrides)
    values["category"] = SampleCategory(values["category"])
    if "individual" not in values:
        values["individual"] = await make_individual(session)
    values.setdefault("system_id", f"TST_S{n:06d}")
    return await save(session, Sample(**values))


async def make_aliquot(session: AsyncSession, **overrides: Any) -> Aliquot:
    """An aliquot of a new sample."""
    n = unique()
    values = _isabl({"identifier": f"aliquot {n}"} | overrides)
    if "sample" not in values:
        values["sample"] = await make_sample(session)
    values.setdefault("system_id", f"TST_A{n:06d}")
    return await save(session, Aliquot(**values))


async def make_project(session: AsyncSession, **overrides: Any) -> Project:
    """A project."""
    values = _isabl({"title": f"Project {unique()}"} | overrides)
    return await save(session, Project(**values))


async def make_experiment(session: AsyncSession, **overrides: Any) -> Experiment:
    """An experiment of a new sample with a new technique, without aliquot."""
    n = unique()
    values = _isabl({"identifier": f"experiment {n}", "projects": []} | overrides)
    if "sample" not in values:
        values["sample"] = await make_sample(session)
    if "technique" not in values:
        values["technique"] = await make_technique(session)
    values.setdefault("system_id", f"TST_E{n:06d}")
    return await save(session, Experiment(**values))


async def make_submission(session: AsyncSession, **overrides: Any) -> Submission:
    """A submission without a form."""
    values = _isabl({"description": f"Submission {unique()}", "projects": []} | overrides)
    return await save(session, Submission(**values))


async def make_application(session: AsyncSession, **overrides: Any) -> Application:
    """An application without assembly."""
    n = unique()
    values = _isabl({"name": f"Application {n}", "version": f"{n}.0"} | overrides)
    return await save(session, Application(**values))


async def make_analysis(session: AsyncSession, **overrides: Any) -> Analysis:
    """A CREATED analysis of a new application, without experiments."""
    values = _isabl({"targets": [], "references": [], "analyses": []} | overrides)
    # Linked analyses are held as references (pk only).
    values["analyses"] = [
        await session.get(AnalysisRef, linked.id) for linked in values["analyses"]
    ]
    if "application" not in values:
        values["application"] = await make_application(session)
    values["status"] = AnalysisStatus(values.get("status", AnalysisStatus.CREATED))
    return await save(session, Analysis(**values))


async def make_signal(session: AsyncSession, **overrides: Any) -> Signal:
    """A signal on an analysis; the slug follows endpoint, id and import string."""
    n = unique()
    values = _isabl(
        {"import_string": f"signals.signal_{n}", "target_endpoint": "analyses", "target_id": n}
        | overrides
    )
    values["target_endpoint"] = SignalEndpoint(values["target_endpoint"])
    importing = values["import_string"].replace(".", " ")
    values.setdefault("slug", slugify(values["target_endpoint"], values["target_id"], importing))
    return await save(session, Signal(**values))


async def make_client(session: AsyncSession, **overrides: Any) -> Client:
    """A client."""
    values = _isabl({"slug": f"client-{unique()}"} | overrides)
    return await save(session, Client(**values))


async def make_custom_field(session: AsyncSession, **overrides: Any) -> CustomField:
    """A string custom field of individuals."""
    values = _isabl(
        {
            "model": "isabl_api.Individual",
            "field_name": f"field_{unique()}",
            "configuration": {"type": "string"},
        }
        | overrides
    )
    return await save(session, CustomField(**values))


Factory = Callable[..., Awaitable[Any]]

# One factory per resource of the registry, by resource name.
FACTORIES: dict[str, Factory] = {
    "aliquots": make_aliquot,
    "analyses": make_analysis,
    "applications": make_application,
    "assemblies": make_assembly,
    "centers": make_center,
    "clients": make_client,
    "custom_fields": make_custom_field,
    "diseases": make_disease,
    "experiments": make_experiment,
    "groups": make_group,
    "individuals": make_individual,
    "platforms": make_platform,
    "projects": make_project,
    "samples": make_sample,
    "signals": make_signal,
    "tags": make_tag,
    "techniques": make_technique,
    "submissions": make_submission,
}
