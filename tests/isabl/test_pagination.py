"""The Isabl list envelope: limit/offset pages with absolute links, `count_limit`,
`fields`, and ordering."""

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import User
from labapi.isabl.models import Tag
from labapi.main import create_app
from tests.conftest import client_as, settings_for
from tests.isabl.cases import assert_problem, pks
from tests.isabl.factories import make_center, make_technique, make_user


async def make_tags(session: AsyncSession, count: int) -> list[int]:
    """`count` tags named t000, t001, …; their pks in order."""
    tags = [Tag(name=f"t{n:03d}", slug=f"t{n:03d}") for n in range(count)]
    session.add_all(tags)
    await session.flush()
    return [tag.id for tag in tags]


def query_of(url: str) -> list[tuple[str, str]]:
    """The decoded pairs of a link's query, in order."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture
async def small_pages(
    engine: AsyncEngine, session: AsyncSession, superuser: User
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app whose pages default to 2 rows and hold at most 3."""
    app = create_app(settings_for(engine, page_size_default=2, page_size_max=3))
    async with client_as(app, session, superuser) as client:
        yield client


class TestListPages:
    async def test_default_limit_is_100(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 101)
        body = (await client.get("/api/v1/tags")).json()
        assert body["count"] == 101
        assert [item["pk"] for item in body["results"]] == ids[:100]
        assert body["next"] == "http://test/api/v1/tags?limit=100&offset=100"
        assert body["previous"] is None

    async def test_limit_and_offset_walk_the_rows(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 5)
        body = (await client.get("/api/v1/tags?limit=2&offset=2")).json()
        assert [item["pk"] for item in body["results"]] == ids[2:4]
        assert body["next"] == "http://test/api/v1/tags?limit=2&offset=4"
        assert body["previous"] == "http://test/api/v1/tags?limit=2"
        last = (await client.get(body["next"])).json()
        assert ([item["pk"] for item in last["results"]], last["next"]) == (ids[4:], None)
        assert last["previous"] == "http://test/api/v1/tags?limit=2&offset=2"

    async def test_offset_past_the_end_is_an_empty_page(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_tags(session, 3)
        body = (await client.get("/api/v1/tags?offset=10")).json()
        assert (body["count"], body["results"], body["next"]) == (3, [], None)
        assert body["previous"] is not None

    async def test_links_keep_every_other_parameter(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_tags(session, 4)
        query = "format=json&name__startswith=t&format=json&name__icontains=0&limit=1&offset=1"
        body = (await client.get(f"/api/v1/tags?{query}")).json()
        assert body["count"] == 4
        kept = [
            ("format", "json"),
            ("name__startswith", "t"),
            ("format", "json"),
            ("name__icontains", "0"),
        ]
        assert query_of(body["next"]) == [*kept, ("limit", "1"), ("offset", "2")]
        assert query_of(body["previous"]) == [*kept, ("limit", "1")]
        assert body["next"].startswith("http://test/api/v1/tags?")

    async def test_links_keep_combined_keys_and_bare_flags(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        for _ in range(3):
            await make_center(session)
        body = (
            await client.get("/api/v1/centers?[name,acronym]__icontains=c&tags__isnull&limit=1")
        ).json()
        assert body["count"] == 3
        followed = (await client.get(body["next"])).json()
        assert followed["count"] == 3
        assert followed["previous"] is not None

    async def test_links_are_built_from_the_request_host(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_tags(session, 3)
        response = await client.get(
            "/api/v1/tags/?limit=1&offset=1", headers={"host": "isabl.example.org:8443"}
        )
        body = response.json()
        assert body["next"] == "http://isabl.example.org:8443/api/v1/tags/?limit=1&offset=2"
        assert body["previous"] == "http://isabl.example.org:8443/api/v1/tags/?limit=1"

    async def test_limit_above_the_maximum_is_clamped(
        self, small_pages: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 5)
        for limit in ("5000", "100000"):
            body = (await small_pages.get(f"/api/v1/tags?limit={limit}")).json()
            assert [item["pk"] for item in body["results"]] == ids[:3]
            assert query_of(body["next"]) == [("limit", "3"), ("offset", "3")]

    async def test_bad_limit_means_the_default(
        self, small_pages: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 5)
        for limit in ("abc", "0", "-3", ""):
            body = (await small_pages.get(f"/api/v1/tags?limit={limit}")).json()
            assert [item["pk"] for item in body["results"]] == ids[:2], limit
        body = (await small_pages.get("/api/v1/tags?offset=-1")).json()
        assert [item["pk"] for item in body["results"]] == ids[:2]


class TestListCountLimit:
    async def test_caps_count_and_rows(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 5)
        body = (await client.get("/api/v1/tags?count_limit=3")).json()
        assert (body["count"], [item["pk"] for item in body["results"]]) == (3, ids[:3])
        assert body["next"] is None

    async def test_pages_within_the_cap(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 5)
        body = (await client.get("/api/v1/tags?count_limit=3&limit=2")).json()
        assert (body["count"], [item["pk"] for item in body["results"]]) == (3, ids[:2])
        last = (await client.get(body["next"])).json()
        assert ([item["pk"] for item in last["results"]], last["next"]) == (ids[2:3], None)

    async def test_above_the_row_count_changes_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ids = await make_tags(session, 3)
        body = (await client.get("/api/v1/tags?count_limit=50")).json()
        assert (body["count"], pks_of(body)) == (3, ids)


def pks_of(body: dict[str, list[dict[str, int]]]) -> list[int]:
    """The pks of a list body's results."""
    return [item["pk"] for item in body["results"]]


class TestListFields:
    async def test_keeps_only_the_named_fields_and_pk(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        center = await make_center(session)
        for query in (
            "fields=name,acronym",
            "fields=name&fields=acronym",
            "fields=name,acronym,no",
        ):
            body = (await client.get(f"/api/v1/centers?{query}")).json()
            assert body["results"] == [
                {"pk": center.id, "name": center.name, "acronym": center.acronym}
            ], query

    async def test_on_detail(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        center = await make_center(session)
        response = await client.get(f"/api/v1/centers/{center.id}?fields=slug")
        assert response.json() == {"pk": center.id, "slug": center.slug}

    async def test_only_unknown_names_keep_pk(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        center = await make_center(session)
        body = (await client.get("/api/v1/centers?fields=nothing")).json()
        assert body["results"] == [{"pk": center.id}]


class TestListOrdering:
    async def test_ascending_and_descending(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        b = await make_center(session, name="B", acronym="X")
        a = await make_center(session, name="A", acronym="Y")
        c = await make_center(session, name="C", acronym="X")
        assert pks(await client.get("/api/v1/centers?ordering=name")) == [a.id, b.id, c.id]
        assert pks(await client.get("/api/v1/centers?ordering=-name")) == [c.id, b.id, a.id]
        assert pks(await client.get("/api/v1/centers?ordering=acronym,-name")) == [
            c.id,
            b.id,
            a.id,
        ]
        assert pks(await client.get("/api/v1/centers?ordering=-pk")) == [c.id, a.id, b.id]

    async def test_pk_breaks_ties(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ids = [(await make_center(session, name="Same", acronym=f"A{n}")).id for n in range(3)]
        assert pks(await client.get("/api/v1/centers?ordering=name")) == ids
        assert pks(await client.get("/api/v1/centers?ordering=-name")) == ids
        page = await client.get("/api/v1/centers?ordering=name&limit=1&offset=1")
        assert pks(page) == ids[1:2]

    async def test_by_a_related_field(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        zed, amy = (
            await make_user(session, username="zed"),
            await make_user(session, username="amy"),
        )
        by_zed = await make_technique(session, created_by=zed)
        by_amy = await make_technique(session, created_by=amy)
        nobody = await make_technique(session)
        response = await client.get("/api/v1/techniques?ordering=created_by__username")
        assert pks(response) == [by_amy.id, by_zed.id, nobody.id]
        response = await client.get("/api/v1/techniques?ordering=-created_by__username")
        assert pks(response) == [nobody.id, by_zed.id, by_amy.id]

    async def test_enum_sorts_by_name(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        wg = await make_technique(session, method="WG")
        at = await make_technique(session, method="AT")
        tr = await make_technique(session, method="TR")
        assert pks(await client.get("/api/v1/techniques?ordering=method")) == [at.id, tr.id, wg.id]

    async def test_unknown_field_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?ordering=nope")
        problem = assert_problem(response, 400, locs=[["query", "ordering"]])
        assert problem["errors"][0]["type"] == "invalid_ordering"
        assert "nope" in problem["errors"][0]["msg"]

    async def test_a_to_many_path_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?ordering=tags__name")
        assert_problem(response, 400, locs=[["query", "ordering"]])

    async def test_a_secret_field_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?ordering=created_by__password")
        assert_problem(response, 400, locs=[["query", "ordering"]])
