"""Fixtures of the lookup-compiler tests: a fixed set of techniques, and helpers that run a
query string through the compiler exactly as the HTTP layer does."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import User
from labapi.isabl.models import Method, Tag, Technique
from labapi.query import (
    apply_ordering,
    compile_filters,
    compile_search,
    parse_params,
    split_query_string,
)

# The resource aliases of every Isabl object (labapi.isabl.specs.BASE_ALIASES).
ALIASES = {"tags": "tags__name", "created_by": "created_by__username"}
ISABL_RESERVED = ("limit", "offset", "ordering", "search", "count_limit", "fields", "format")
SEARCH_FIELDS = ("name", "slug", "category")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(year, month, day, hour, minute, second, us, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    """One technique of the fixed data set (`name` identifies it in assertions)."""

    name: str
    method: Method
    category: str
    created: dt.datetime
    notes: str | None = None
    storage_usage: int | None = None
    custom_fields: Any = None
    tags: tuple[str, ...] = ()
    created_by: str | None = None


# Weekdays (Django's week_day: 1 = Sunday … 7 = Saturday) are noted for the transform cases.
ROWS: tuple[Row, ...] = (
    Row(
        "alpha",
        Method.WG,
        "DNA",
        utc(2016, 6, 4, 21, 0, 51),  # Saturday (7)
        notes="first run",
        storage_usage=100,
        custom_fields={"a": {"b": "Hello World"}, "n": 5, "flag": True, "list": [1, 2]},
        tags=("red", "blue"),
        created_by="alice",
    ),
    Row(
        "Beta",
        Method.WE,
        "DNA",
        utc(2017, 1, 15, 8, 30, 0, 250000),  # Sunday (1)
        notes=None,
        storage_usage=None,
        custom_fields={"a": {"b": "other"}, "n": 10, "flag": False},
        tags=("red",),
        created_by="bob",
    ),
    Row(
        "gamma 50%_off",
        Method.RS,
        "RNA",
        utc(2016, 12, 31, 23, 59, 59, 999999),  # Saturday (7)
        notes="50% done_a/b",
        storage_usage=0,
        custom_fields={"n": 9.5, "flag": "true", "a": "plain"},
    ),
    Row(
        "delta",
        Method.TR,
        "RNA",
        utc(2018, 3, 1, 0, 0, 0),  # Thursday (5)
        notes="Case TEST",
        storage_usage=5_000_000_000,
        custom_fields={},
        tags=("blue", "green"),
        created_by="alice",
    ),
    Row(
        "Épsilon",
        Method.HE,
        "IMAGING",
        utc(2016, 6, 4, 9, 15, 0),  # Saturday (7)
        notes="",
        storage_usage=7,
        custom_fields={"a": {"b": None}, "n": "5"},
        tags=("green",),
    ),
)
ALL = frozenset(row.name for row in ROWS)


@dataclass
class Dataset:
    """The inserted rows, by name."""

    techniques: dict[str, Technique]
    users: dict[str, User]
    tags: dict[str, Tag]

    def name_of(self, pk: int) -> str:
        """The name of the technique with this primary key."""
        return next(name for name, obj in self.techniques.items() if obj.id == pk)


async def insert_rows(session: AsyncSession, rows: Sequence[Row] = ROWS) -> Dataset:
    """Insert users, tags and the techniques of `rows`; flush."""
    users = {
        name: User(username=name, password=f"argon2$secret-of-{name}", email=f"{name}@lab.org")
        for name in ("alice", "bob")
    }
    tags = {name: Tag(name=name, slug=name) for name in ("red", "blue", "green")}
    session.add_all([*users.values(), *tags.values()])
    await session.flush()
    techniques: dict[str, Technique] = {}
    for index, row in enumerate(rows):
        obj = Technique(
            name=row.name,
            slug=f"t-{index}",
            method=row.method,
            category=row.category,
            created=row.created,
            modified=row.created,
            notes=row.notes,
            storage_usage=row.storage_usage,
            custom_fields=row.custom_fields if row.custom_fields is not None else {},
            tags=[tags[tag] for tag in row.tags],
            created_by=users[row.created_by] if row.created_by else None,
        )
        session.add(obj)
        techniques[row.name] = obj
    await session.flush()
    return Dataset(techniques, users, tags)


@pytest.fixture
async def dataset(session: AsyncSession) -> Dataset:
    """The fixed rows of ROWS, inserted in the test's transaction."""
    return await insert_rows(session)


async def run_filters(
    session: AsyncSession,
    query: str,
    *,
    aliases: dict[str, str] | None = None,
    ordered: bool = False,
) -> list[str]:
    """Names of the techniques a query string selects, as the list endpoint compiles it."""
    reserved, conditions = parse_params(split_query_string(query), ISABL_RESERVED)
    stmt = select(Technique).where(
        *compile_filters(Technique, conditions, ALIASES if aliases is None else aliases)
    )
    search = reserved.get("search")
    if search and search[-1]:
        stmt = stmt.where(*compile_search(Technique, search[-1], SEARCH_FIELDS))
    if ordered:
        order = reserved.get("ordering")
        stmt = apply_ordering(
            stmt, Technique, order[-1] if order else None, param="ordering", aliases=ALIASES
        )
    names = list((await session.scalars(stmt.with_only_columns(Technique.name))).all())
    return names if ordered else sorted(names)
