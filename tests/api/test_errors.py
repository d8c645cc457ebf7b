"""Every error is RFC 9457 problem+json (400 never 422, 404, 405, 500), and every response
carries an `x-request-id`."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.main import create_app
from tests.conftest import app_client, settings_for
from tests.isabl.cases import assert_problem
from tests.isabl.factories import make_center


class TestQueryErrors:
    async def test_unknown_filter_field(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?nope=1")
        problem = assert_problem(response, 400, locs=[["query", "nope"]])
        assert problem["type"] == "/problems/unknown-filter-field"
        assert problem["title"] == "Unknown filter field"
        assert problem["code"] == "LAB101"
        assert "nope" in problem["detail"]
        error = problem["errors"][0]
        assert error["type"] == "unknown_field"
        assert "acronym" in error["msg"]  # names what would be valid

    async def test_unknown_related_field(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?tags__color=red")
        problem = assert_problem(response, 400, locs=[["query", "tags__color"]])
        assert problem["errors"][0]["type"] == "unknown_field"

    async def test_unknown_operator(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?name__near=x")
        problem = assert_problem(response, 400, locs=[["query", "name__near"]])
        assert problem["errors"][0]["type"] == "unknown_operator"
        assert "icontains" in problem["errors"][0]["msg"]

    async def test_operator_that_does_not_fit_the_type(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?storage_usage__icontains=1")
        problem = assert_problem(response, 400, locs=[["query", "storage_usage__icontains"]])
        assert problem["errors"][0]["type"] == "operator_mismatch"

    async def test_secret_fields_do_not_exist(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?created_by__password__startswith=a")
        problem = assert_problem(
            response, 400, locs=[["query", "created_by__password__startswith"]]
        )
        assert problem["errors"][0]["type"] == "unknown_field"

    async def test_invalid_regex(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers", params={"name__regex": "(unclosed"})
        problem = assert_problem(response, 400, locs=[["query", "name__regex"]])
        assert problem["errors"][0]["type"] == "invalid_regex"

    async def test_bad_syntax(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers?[name,acronym=x")
        assert_problem(response, 400, locs=[["query", "[name,acronym"]])

    async def test_several_bad_parameters_are_reported_together(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(
            "/api/v1/centers?nope=1&name__foo=2&pk=abc&ordering=zzz&name=fine"
        )
        problem = assert_problem(response, 400)
        locs = sorted(error["loc"] for error in problem["errors"])
        assert locs == [
            ["query", "name__foo"],
            ["query", "nope"],
            ["query", "ordering"],
            ["query", "pk"],
        ]


class TestBodyErrors:
    async def test_validation_is_a_400_not_a_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/centers", json={"name": 5})
        problem = assert_problem(response, 400)
        assert problem["type"] == "/problems/validation-error"
        assert problem["code"] == "LAB200"
        assert sorted(error["loc"] for error in problem["errors"]) == [
            ["body", "acronym"],
            ["body", "name"],
        ]

    async def test_no_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/centers")
        problem = assert_problem(response, 400)
        assert problem["errors"][0]["loc"][0] == "body"


class TestRouting:
    async def test_unknown_path_is_a_404(self, client: httpx.AsyncClient) -> None:
        for path in ("/api/v1/nothing", "/api/v1/nothing/", "/nowhere", "/api/v1/centers/1/x"):
            problem = assert_problem(await client.get(path), 404)
            assert problem["type"] == "/problems/not-found"

    async def test_unknown_object_is_a_404(self, client: httpx.AsyncClient) -> None:
        problem = assert_problem(await client.get("/api/v1/centers/987654321"), 404)
        assert "Object not found try a different ID" in problem["detail"]
        assert problem["code"] == "LAB201"

    async def test_non_ascii_digits_are_not_a_pk(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_center(session)
        for ident in ("²", "١"):
            assert_problem(await client.get(f"/api/v1/centers/{ident}"), 404)

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("PUT", "/api/v1/centers"),
            ("PATCH", "/api/v1/centers/"),
            ("DELETE", "/api/v1/techniques"),
            ("POST", "/api/v1/centers/1"),
            ("POST", "/api/v1/tags/1/"),
        ],
    )
    async def test_wrong_method_is_a_405(
        self, client: httpx.AsyncClient, method: str, path: str
    ) -> None:
        problem = assert_problem(await client.request(method, path, json={}), 405)
        assert problem["type"] == "/problems/method-not-allowed"
        assert method in problem["detail"]

    async def test_post_without_slash_is_never_redirected(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/centers", json={"name": "N", "acronym": "A"}, follow_redirects=False
        )
        assert response.status_code == 201


class TestRequestId:
    async def test_every_response_carries_one(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        center = await make_center(session)
        responses = [
            await client.get("/api/v1/centers"),
            await client.post("/api/v1/centers", json={"name": "N", "acronym": "A"}),
            await client.patch(f"/api/v1/centers/{center.id}", json={"notes": "x"}),
            await client.get("/api/v1/centers?nope=1"),
            await client.get("/api/v1/nothing"),
            await client.put("/api/v1/centers"),
            await client.delete(f"/api/v1/centers/{center.id}"),
        ]
        assert [r.status_code for r in responses] == [200, 201, 200, 400, 404, 405, 204]
        ids = [r.headers.get("x-request-id") for r in responses]
        assert all(ids), ids
        assert len(set(ids)) == len(ids)

    async def test_a_sane_incoming_id_is_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers", headers={"x-request-id": "abc-123.x_y"})
        assert response.headers["x-request-id"] == "abc-123.x_y"

    async def test_an_insane_incoming_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/centers", headers={"x-request-id": 'a b"<>' * 20})
        assert response.headers["x-request-id"] not in ("", 'a b"<>' * 20)


@pytest.fixture
async def failing(engine: AsyncEngine, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app with an extra route that fails with an unexpected error."""
    app = create_app(settings_for(engine))

    async def boom() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/boom", boom)
    async with app_client(app, session) as client:
        yield client


class TestInternalError:
    async def test_says_only_internal_error_and_the_logged_request_id(
        self, failing: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.ERROR, logger="labapi"):
            response = await failing.get("/boom")
        problem = assert_problem(response, 500)
        assert problem["detail"] == "internal error"
        assert "secret" not in response.text
        assert problem["request_id"] in caplog.text

    async def test_carries_the_request_id_header(self, failing: httpx.AsyncClient) -> None:
        response = await failing.get("/boom")
        assert response.headers.get("x-request-id") == response.json()["request_id"]


class TestNulCharacters:
    async def test_nul_in_a_detail_id_is_a_404(self, client):
        response = await client.get("/api/v1/users/a%00b")
        assert response.status_code == 404

    async def test_nul_in_a_body_is_a_400_not_a_500(self, client):
        response = await client.post("/api/v1/centers", json={"name": "a\u0000b", "acronym": "N"})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "name"]
