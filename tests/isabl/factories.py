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
    Assembly,
    Center,
    Disease,
    Group,
    Method,
    Platform,
    Species,
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


Factory = Callable[..., Awaitable[Any]]

# One factory per resource of the registry, by resource name.
FACTORIES: dict[str, Factory] = {
    "assemblies": make_assembly,
    "centers": make_center,
    "diseases": make_disease,
    "groups": make_group,
    "platforms": make_platform,
    "tags": make_tag,
    "techniques": make_technique,
}
