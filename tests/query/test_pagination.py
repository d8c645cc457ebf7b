"""Pagination: limit/offset windows and links (Isabl, DRF's LimitOffsetPagination),
pg/pg_size windows and the `meta` envelope (facility), and counting."""

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.isabl.models import Tag, Technique
from labapi.query import (
    Condition,
    Meta,
    Window,
    apply_ordering,
    apply_window,
    compile_filters,
    count_rows,
    filters_echo,
    limit_offset_envelope,
    limit_offset_window,
    max_page,
    meta_block,
    meta_envelope,
    page_window,
    parse_params,
    replace_query,
    split_query_string,
)
from labapi.query.pagination import MAX_ROWS
from tests.query.conftest import ALIASES, Dataset

BASE = "http://test/api/v1/techniques"


def reserved_of(query: str, names: tuple[str, ...]) -> dict[str, list[str | None]]:
    reserved, _ = parse_params(split_query_string(query), names)
    return reserved


def isabl_window(query: str, default: int = 100, maximum: int = 10000) -> Window:
    reserved = reserved_of(query, ("limit", "offset", "count_limit"))
    return limit_offset_window(reserved, default=default, maximum=maximum)


def facility_window(query: str, default: int = 50, maximum: int = 1000) -> Window:
    return page_window(reserved_of(query, ("pg", "pg_size")), default=default, maximum=maximum)


async def names_in(session: AsyncSession, window: Window, query: str = "") -> list[str]:
    _, conditions = parse_params(split_query_string(query), ())
    stmt = select(Technique).where(*compile_filters(Technique, conditions, ALIASES))
    ordered = apply_ordering(stmt, Technique, None, param="ordering")
    return [obj.name for obj in (await session.scalars(apply_window(ordered, window))).all()]


class TestLimitOffsetWindow:
    @pytest.mark.parametrize(
        ("query", "offset", "limit"),
        [
            ("", 0, 100),
            ("limit=5&offset=10", 10, 5),
            ("limit=5000", 0, 5000),
            ("limit=100000", 0, 10000),  # clamped to the maximum, as DRF does
            ("limit=10000", 0, 10000),
            ("limit=0", 0, 100),  # DRF: not a positive int -> default
            ("limit=-3", 0, 100),
            ("limit=abc", 0, 100),
            ("limit=", 0, 100),
            ("limit", 0, 100),
            ("limit=2.5", 0, 100),
            ("limit=+7", 0, 7),
            ("limit=%2B7", 0, 7),
            ("offset=-1", 0, 100),
            ("offset=abc", 0, 100),
            ("offset=0", 0, 100),
            ("limit=5&limit=7", 0, 7),  # the last value, as Django's QueryDict
            ("offset=99999999999999999999999999", MAX_ROWS, 100),
        ],
    )
    def test_values(self, query: str, offset: int, limit: int) -> None:
        window = isabl_window(query)
        assert (window.offset, window.limit) == (offset, limit)
        assert window.page == 1
        assert window.warnings == ()

    @pytest.mark.parametrize(
        ("query", "count_limit", "effective"),
        [
            ("", None, 100),
            ("count_limit=150", 150, 100),
            ("count_limit=150&offset=100", 150, 50),
            ("count_limit=150&offset=200", 150, 0),
            ("count_limit=30&limit=10", 30, 10),
            ("count_limit=abc", None, 100),
            ("count_limit=-1", None, 100),
        ],
    )
    def test_count_limit_caps_the_rows(
        self, query: str, count_limit: int | None, effective: int
    ) -> None:
        window = isabl_window(query)
        assert window.count_limit == count_limit
        assert window.effective_limit == effective


class TestLimitOffsetEnvelope:
    QUERY = "tags=a&flag&tags=b&name=x%20y+z&format=json&format=json&limit=2"

    def envelope(self, offset: int, count: int = 5, query: str = QUERY) -> dict[str, object]:
        window = Window(offset=offset, limit=2)
        return limit_offset_envelope(["r"], count=count, window=window, base_url=BASE, query=query)

    def test_first_page(self) -> None:
        assert self.envelope(0) == {
            "count": 5,
            "next": f"{BASE}?tags=a&flag&tags=b&name=x%20y+z&format=json&format=json"
            "&limit=2&offset=2",
            "previous": None,
            "results": ["r"],
        }

    def test_second_page_previous_drops_the_offset(self) -> None:
        body = self.envelope(2, query=self.QUERY + "&offset=2")
        keep = "tags=a&flag&tags=b&name=x%20y+z&format=json&format=json"
        assert body["next"] == f"{BASE}?{keep}&limit=2&offset=4"
        assert body["previous"] == f"{BASE}?{keep}&limit=2"

    def test_last_page(self) -> None:
        body = self.envelope(4, query="offset=4&limit=2")
        assert body["next"] is None
        assert body["previous"] == f"{BASE}?limit=2&offset=2"

    def test_previous_from_an_offset_inside_the_first_page(self) -> None:
        body = self.envelope(1, query="limit=2&offset=1")
        assert body["previous"] == f"{BASE}?limit=2"

    def test_no_links_when_everything_fits(self) -> None:
        body = limit_offset_envelope(
            [], count=0, window=Window(offset=0, limit=100), base_url=BASE, query=""
        )
        assert body == {"count": 0, "next": None, "previous": None, "results": []}

    def test_links_use_the_clamped_limit(self) -> None:
        window = isabl_window("limit=100000")
        body = limit_offset_envelope(
            [], count=20000, window=window, base_url=BASE, query="limit=100000"
        )
        assert body["next"] == f"{BASE}?limit=10000&offset=10000"

    def test_count_limit_stops_next(self) -> None:
        window = isabl_window("count_limit=3&limit=2&offset=2")
        body = limit_offset_envelope(
            ["r"], count=3, window=window, base_url=BASE, query="count_limit=3&limit=2&offset=2"
        )
        assert body["next"] is None
        assert body["previous"] == f"{BASE}?count_limit=3&limit=2"


class TestReplaceQuery:
    @pytest.mark.parametrize(
        ("query", "updates", "result"),
        [
            ("", {"limit": 5}, "limit=5"),
            ("a=1&limit=5&b", {"limit": 10, "offset": 20}, "a=1&b&limit=10&offset=20"),
            ("a=1&limit=5&%6Cimit=6&flag", {"limit": 10, "offset": None}, "a=1&flag&limit=10"),
            ("offset=5&x=%2B&x=%26", {"offset": None}, "x=%2B&x=%26"),
            ("a=1&&b=2", {}, "a=1&b=2"),
            ("[a,b]__icontains!=x&name!=y", {"limit": 1}, "[a,b]__icontains!=x&name!=y&limit=1"),
        ],
    )
    def test_other_parameters_stay_byte_for_byte(
        self, query: str, updates: dict[str, int | None], result: str
    ) -> None:
        assert replace_query(query, **updates) == result


class TestPageWindow:
    @pytest.mark.parametrize(
        ("query", "offset", "limit", "page", "warnings"),
        [
            ("", 0, 50, 1, 0),
            ("pg=3&pg_size=10", 20, 10, 3, 0),
            ("pg=2", 50, 50, 2, 0),
            ("pg_size=0", 0, None, 1, 0),
            ("pg=4&pg_size=0", 0, None, 1, 0),
            ("pg=0", 0, 50, 1, 1),
            ("pg=-2", 0, 50, 1, 1),
            ("pg=abc&pg_size=10", 0, 10, 1, 1),
            ("pg_size=-1", 0, 50, 1, 1),
            ("pg_size=abc&pg=2", 50, 50, 2, 1),
            ("pg_size=5000", 0, 1000, 1, 1),
            ("pg=x&pg_size=y", 0, 50, 1, 2),
            ("pg=99999999999999999999999&pg_size=1000", MAX_ROWS, 1000, MAX_ROWS, 0),
        ],
    )
    def test_values(
        self, query: str, offset: int, limit: int | None, page: int, warnings: int
    ) -> None:
        window = facility_window(query)
        assert (window.offset, window.limit, window.page) == (offset, limit, page)
        assert len(window.warnings) == warnings

    def test_warning_names_the_parameter(self) -> None:
        window = facility_window("pg=abc&pg_size=5000")
        assert window.warnings == (
            "pg='abc' is not a page number (1 or more); using 1",
            "pg_size=5000 is above the maximum; using 1000",
        )


class TestWindowsOnTheDatabase:
    async def test_limit_offset(self, session: AsyncSession, dataset: Dataset) -> None:
        assert await names_in(session, isabl_window("limit=2&offset=1")) == [
            "Beta",
            "gamma 50%_off",
        ]
        assert await names_in(session, isabl_window("limit=2&offset=4")) == ["Épsilon"]

    async def test_count_limit_caps_rows(self, session: AsyncSession, dataset: Dataset) -> None:
        window = isabl_window("count_limit=3&limit=2&offset=2")
        assert await names_in(session, window) == ["gamma 50%_off"]
        stmt = select(Technique)
        assert await count_rows(session, stmt, cap=window.count_limit) == 3
        assert await count_rows(session, stmt) == 5

    async def test_page_size_zero_returns_every_row(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        assert len(await names_in(session, facility_window("pg_size=0"))) == 5

    async def test_page_past_the_end_is_empty(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        assert await names_in(session, facility_window("pg=3&pg_size=2")) == ["Épsilon"]
        assert await names_in(session, facility_window("pg=4&pg_size=2")) == []

    async def test_huge_offsets_run(self, session: AsyncSession, dataset: Dataset) -> None:
        window = isabl_window("offset=99999999999999999999999&count_limit=99999999999999999999")
        assert await names_in(session, window) == []
        assert await names_in(session, facility_window("pg=99999999999999999999")) == []


class TestCountRows:
    """Counts wrap `SELECT 1 FROM <model> ...`: the model's FROM must stay, or a statement
    whose only reference to it is a correlated EXISTS (or none at all) counts one row."""

    @pytest.mark.parametrize(
        ("query", "count"),
        [
            ("", 5),
            ("tags__name__icontains=e", 4),
            ("tags=red", 2),
            ("tags!=red", 3),
            ("tags__isnull", 1),
            ("tags=red&created_by=alice", 1),
            ("created_by__username=alice", 2),
            ("name=nope", 0),
        ],
    )
    async def test_filtered(
        self, session: AsyncSession, dataset: Dataset, query: str, count: int
    ) -> None:
        _, conditions = parse_params(split_query_string(query), ())
        stmt = select(Technique).where(*compile_filters(Technique, conditions, ALIASES))
        assert await count_rows(session, stmt) == count
        ordered = apply_ordering(
            stmt, Technique, "-created_by__username", param="ordering", aliases=ALIASES
        )
        assert await count_rows(session, ordered) == count
        assert await count_rows(session, stmt, cap=2) == min(count, 2)

    async def test_exists_only_statement(self, session: AsyncSession, dataset: Dataset) -> None:
        stmt = select(Technique).where(Technique.tags.any(Tag.name == "green"))
        assert await count_rows(session, stmt) == 2


class TestMeta:
    def conditions(self, query: str) -> list[Condition]:
        _, conditions = parse_params(split_query_string(query), ("pg", "pg_size", "o"))
        return conditions

    def test_filters_echo(self) -> None:
        conditions = self.conditions(
            "name__exact=x&status__in!=a,b&[name,notes]__icontains=q&flag__isnull"
            "&count__gte=5&pg=2&custom_fields__in__exact=z"
        )
        assert filters_echo(conditions) == {
            "positive": {
                "name": "x",
                "[name__icontains,notes__icontains]": "q",
                "flag__isnull": None,
                "count__gte": "5",
                "custom_fields__in__exact": "z",
            },
            "negative": {"status__in": "a,b"},
        }

    @pytest.mark.parametrize(
        ("filtered", "size", "pages"),
        [(0, 50, 1), (1, 50, 1), (50, 50, 1), (51, 50, 2), (101, 50, 3), (7, None, 1), (7, 0, 1)],
    )
    def test_max_page(self, filtered: int, size: int | None, pages: int) -> None:
        assert max_page(filtered, size) == pages

    def test_envelope(self) -> None:
        window = facility_window("pg=2&pg_size=2")
        meta = Meta(self.conditions("name!=x&o=-name"), "-name", 5, 9, window)
        assert meta_envelope(["r"], meta) == {
            "data": ["r"],
            "meta": {
                "filters": {"positive": {}, "negative": {"name": "x"}},
                "order": "-name",
                "filtered_count": 5,
                "total_count": 9,
                "page": 2,
                "page_size": 2,
                "max_page": 3,
            },
            "warnings": [],
        }

    def test_page_past_the_last_warns(self) -> None:
        window = facility_window("pg=5&pg_size=abc", default=2)
        body = meta_envelope([], Meta([], None, 3, 3, window, ["extra"]))
        assert body["data"] == []
        assert body["meta"]["max_page"] == 2
        assert body["meta"]["page"] == 5
        assert body["warnings"] == [
            "pg_size='abc' is not a page size (0 or more); using 2",
            "extra",
            "page 5 is past the last page (2); no rows returned",
        ]

    def test_empty_result_is_one_page(self) -> None:
        body = meta_envelope([], Meta([], None, 0, 0, facility_window("")))
        assert body["meta"]["max_page"] == 1
        assert body["warnings"] == []

    def test_every_row(self) -> None:
        block = meta_block(Meta([], None, 120, 120, facility_window("pg_size=0")))
        assert (block["page"], block["page_size"], block["max_page"]) == (1, 0, 1)
