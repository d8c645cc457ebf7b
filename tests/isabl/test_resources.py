"""The generated endpoints of every Isabl resource of the registry: list, get-or-create,
read, update, partial update and delete, each path with and without its trailing slash."""

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.api.factory import ResourceSpec
from labapi.auth.models import User
from labapi.isabl.specs import REGISTRY
from tests.isabl.cases import (
    CASES,
    CREATE_ONLY_SPECS,
    ISABL_SPECS,
    ISO_UTC,
    NOT_FOUND,
    assert_problem,
    detail_url,
    expected_fields,
    list_url,
    matches,
    pks,
    spec_id,
)
from tests.isabl.factories import FACTORIES, make_tag, make_user

every_resource = pytest.mark.parametrize("spec", REGISTRY, ids=spec_id)
isabl_resources = pytest.mark.parametrize("spec", ISABL_SPECS, ids=spec_id)
create_only_resources = pytest.mark.parametrize("spec", CREATE_ONLY_SPECS, ids=spec_id)
SLASHES = ("", "/")


def parse_iso(value: str) -> dt.datetime:
    """A rendered datetime."""
    return dt.datetime.fromisoformat(value)


async def make(spec: ResourceSpec, session: AsyncSession, **overrides: Any) -> Any:
    """An object of the resource, built by its factory."""
    return await FACTORIES[spec.name](session, **overrides)


async def create(client: httpx.AsyncClient, spec: ResourceSpec, **extra: Any) -> dict[str, Any]:
    """POST the case's body (plus `extra`) and return the new representation."""
    response = await client.post(list_url(spec), json=CASES[spec.name].body | extra)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_every_resource_has_a_case_and_a_factory() -> None:
    assert {spec.name for spec in REGISTRY} == set(CASES) == set(FACTORIES)


class TestList:
    @every_resource
    async def test_lists_objects_in_pk_order_with_and_without_slash(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        first, second = await make(spec, session), await make(spec, session)
        for slash in SLASHES:
            response = await client.get(list_url(spec, slash), follow_redirects=False)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            body = response.json()
            assert body == {
                "count": 2,
                "next": None,
                "previous": None,
                "results": body["results"],
            }
            assert pks(response) == [first.id, second.id]

    @every_resource
    async def test_renders_the_same_representation_as_detail(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        listed = (await client.get(list_url(spec))).json()["results"]
        detail = (await client.get(detail_url(spec, obj.id))).json()
        assert listed == [detail]
        assert set(detail) == expected_fields(spec)

    @every_resource
    async def test_empty_list(self, client: httpx.AsyncClient, spec: ResourceSpec) -> None:
        response = await client.get(list_url(spec))
        assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


class TestCreate:
    @every_resource
    async def test_creates_with_201_with_and_without_slash(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        case = CASES[spec.name]
        without = await client.post(list_url(spec), json=case.body, follow_redirects=False)
        with_slash = await client.post(list_url(spec, "/"), json=case.other, follow_redirects=False)
        assert (without.status_code, with_slash.status_code) == (201, 201), without.text
        for response, body in ((without, case.body), (with_slash, case.other)):
            assert set(response.json()) == expected_fields(spec)
            assert matches(response.json(), body), response.json()
        listed = await client.get(list_url(spec))
        assert pks(listed) == [without.json()["pk"], with_slash.json()["pk"]]

    @isabl_resources
    async def test_representation_has_every_field(
        self, client: httpx.AsyncClient, superuser: User, spec: ResourceSpec
    ) -> None:
        body = (await client.post(list_url(spec), json=CASES[spec.name].body)).json()
        assert set(body) == expected_fields(spec)
        assert body["model_name"] == spec.model.__name__
        assert isinstance(body["pk"], int)
        assert len(body["uuid"]) == 36
        assert ISO_UTC.match(body["created"]), body["created"]
        assert ISO_UTC.match(body["modified"]), body["modified"]
        assert parse_iso(body["created"]) <= parse_iso(body["modified"])
        empty = {
            "created_by": superuser.username,
            "tags": [],
            "notes": None,
            "custom_fields": {},
            "data": {},
            "storage_url": None,
            "storage_usage": None,
        }
        assert {k: body[k] for k in empty} == empty

    @isabl_resources
    async def test_null_json_fields_are_stored_as_empty_objects(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        nulls = {"custom_fields": None, "data": None}
        if "reference_data" in CASES[spec.name].fields:
            nulls["reference_data"] = None
        body = await create(client, spec, **nulls)
        assert {k: body[k] for k in nulls} == dict.fromkeys(nulls, {})

    @isabl_resources
    async def test_stores_the_base_fields(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        given = {
            "notes": "first batch",
            "custom_fields": {"lab": "A", "n": 3},
            "data": {"nested": {"x": [1, 2]}},
            "storage_url": "/storage/x",
            "storage_usage": 2**40,
        }
        body = await create(client, spec, **given)
        assert {k: body[k] for k in given} == given
        again = (await client.get(detail_url(spec, body["pk"]))).json()
        assert {k: again[k] for k in given} == given

    @every_resource
    async def test_existing_key_returns_the_object_unchanged_with_200(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        first = await create(client, spec)
        extra = {"notes": "changed", "custom_fields": {"a": 1}, "tags": ["new"]}
        response = await client.post(list_url(spec, "/"), json=CASES[spec.name].body | extra)
        if not spec.model.get_or_create_key:  # no key (projects): always new
            assert response.status_code == 201, response.text
            assert response.json()["pk"] != first["pk"]
            return
        assert response.status_code == 200, response.text
        assert response.json() == first
        assert (await client.get(list_url(spec))).json()["count"] == 1
        if spec.name != "tags":
            assert (await client.get("/api/v1/tags")).json()["count"] == 0

    @every_resource
    async def test_existing_pk_returns_the_object_unchanged_with_200(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        first = await create(client, spec)
        body = CASES[spec.name].other | {"pk": first["pk"]}
        response = await client.post(list_url(spec), json=body)
        assert response.status_code == 200, response.text
        assert response.json() == first
        assert (await client.get(list_url(spec))).json()["count"] == 1

    @every_resource
    async def test_unknown_pk_is_a_400(self, client: httpx.AsyncClient, spec: ResourceSpec) -> None:
        body = CASES[spec.name].body | {"pk": 987654321}
        assert_problem(await client.post(list_url(spec), json=body), 400, locs=[["body", "pk"]])
        assert (await client.get(list_url(spec))).json()["count"] == 0

    @every_resource
    async def test_different_key_creates_another_object(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        case = CASES[spec.name]
        first = await create(client, spec)
        key = spec.model.get_or_create_key
        if not key:
            pytest.skip("no unique key: every POST without pk is new")
        changed = dict(case.body)
        changed[key[-1]] = case.other[key[-1]]
        response = await client.post(list_url(spec), json=changed)
        assert response.status_code == 201, response.text
        assert response.json()["pk"] != first["pk"]

    @every_resource
    async def test_unknown_body_keys_are_ignored(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = CASES[spec.name].body | {"bogus": 1, "model_name": "Other", "slug": "forged"}
        if "slug" in spec.create.model_fields:  # clients are named by their slug
            body["slug"] = CASES[spec.name].body["slug"]
        response = await client.post(list_url(spec), json=body)
        assert response.status_code == 201, response.text
        assert "bogus" not in response.json()
        assert response.json().get("slug") != "forged"

    @every_resource
    async def test_missing_required_fields_are_400_one_entry_each(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        required = [name for name, info in spec.create.model_fields.items() if info.is_required()]
        if not required:  # projects: every field is optional
            assert (await client.post(list_url(spec), json={})).status_code == 201
            return
        response = await client.post(list_url(spec), json={})
        body = assert_problem(response, 400, locs=[["body", name] for name in required])
        assert {error["type"] for error in body["errors"]} == {"missing"}

    @every_resource
    async def test_a_body_that_is_not_an_object_is_a_400(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        response = await client.post(list_url(spec), json=[CASES[spec.name].body])
        problem = assert_problem(response, 400)
        assert problem["errors"][0]["loc"][0] == "body"

    @isabl_resources
    async def test_nested_tags_are_got_or_created_by_name_or_pk(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        by_name, by_pk = await make_tag(session, name="known"), await make_tag(session)
        tags = ["fresh", {"name": "known"}, {"pk": by_pk.id}, "fresh"]
        body = await create(client, spec, tags=tags)
        names = {tag["name"]: tag["pk"] for tag in body["tags"]}
        assert set(names) == {"fresh", "known", by_pk.name}
        assert names["known"] == by_name.id
        assert names[by_pk.name] == by_pk.id
        assert [tag["pk"] for tag in body["tags"]] == sorted(names.values())
        assert all(set(tag) == {"name", "pk"} for tag in body["tags"])
        assert (await client.get("/api/v1/tags")).json()["count"] == 3

    @isabl_resources
    async def test_nested_tag_with_unknown_pk_is_a_400(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = CASES[spec.name].body | {"tags": ["ok", {"pk": 987654321}]}
        response = await client.post(list_url(spec), json=body)
        assert_problem(response, 400, locs=[["body", "tags", 1, "pk"]])

    @isabl_resources
    async def test_nested_tag_without_name_or_pk_is_a_400(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = CASES[spec.name].body | {"tags": [{}]}
        response = await client.post(list_url(spec), json=body)
        problem = assert_problem(response, 400)
        assert problem["errors"][0]["loc"][:3] == ["body", "tags", 0]

    @isabl_resources
    async def test_created_by_names_an_existing_user(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        user = await make_user(session)
        body = await create(client, spec, created_by=user.username)
        assert body["created_by"] == user.username

    @isabl_resources
    async def test_created_by_unknown_user_is_a_400(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = CASES[spec.name].body | {"created_by": "nobody"}
        response = await client.post(list_url(spec), json=body)
        assert_problem(response, 400, locs=[["body", "created_by"]])


class TestRead:
    @every_resource
    async def test_by_pk_with_and_without_slash(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        for slash in SLASHES:
            response = await client.get(detail_url(spec, obj.id, slash), follow_redirects=False)
            assert response.status_code == 200, response.text
            assert response.json()["pk"] == obj.id

    @every_resource
    async def test_by_identifier(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        created = await create(client, spec)
        await make(spec, session)
        for name in CASES[spec.name].identifiers:
            response = await client.get(detail_url(spec, created[name]))
            assert response.status_code == 200, (name, response.text)
            assert response.json() == created

    @every_resource
    async def test_unknown_pk_is_a_404(self, client: httpx.AsyncClient, spec: ResourceSpec) -> None:
        for slash in SLASHES:
            response = await client.get(detail_url(spec, 987654321, slash))
            assert NOT_FOUND in assert_problem(response, 404)["detail"]

    @every_resource
    async def test_unknown_identifier_is_a_404(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        response = await client.get(detail_url(spec, "no-such-thing"))
        assert NOT_FOUND in assert_problem(response, 404)["detail"]

    @every_resource
    async def test_pk_beyond_64_bits_is_a_404(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        response = await client.get(detail_url(spec, 2**64))
        assert NOT_FOUND in assert_problem(response, 404)["detail"]

    @every_resource
    async def test_fields_keeps_only_those_and_pk(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        wanted = sorted(CASES[spec.name].fields - {"pk"})[:2]
        response = await client.get(
            detail_url(spec, obj.id), params={"fields": ",".join([*wanted, "nope"])}
        )
        assert set(response.json()) == {"pk", *wanted}


class TestUpdate:
    @every_resource
    async def test_updates_with_and_without_slash(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        case = CASES[spec.name]
        is_isabl = spec in ISABL_SPECS
        for index, slash in enumerate(SLASHES):
            body: dict[str, Any] = dict(case.put)
            if "name" in body:
                body["name"] += str(index)
            if is_isabl:
                body |= {"notes": f"note {index}", "storage_usage": index}
            response = await client.put(
                detail_url(spec, obj.id, slash), json=body, follow_redirects=False
            )
            assert response.status_code == 200, response.text
            assert {k: response.json()[k] for k in body} == body
        assert (await client.get(detail_url(spec, obj.id))).json()["pk"] == obj.id

    @isabl_resources
    async def test_puts_back_its_own_representation(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        user = await make_user(session)
        body = await create(client, spec, created_by=user.username, tags=["a"])
        edited = body | {"notes": "edited", "custom_fields": {"k": "v"}}
        response = await client.put(detail_url(spec, body["pk"]), json=edited)
        assert response.status_code == 200, response.text
        result = response.json()
        assert parse_iso(result["modified"]) > parse_iso(body["modified"])
        assert result | {"modified": body["modified"]} == edited

    @isabl_resources
    async def test_read_only_fields_in_the_body_are_ignored(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        user = await make_user(session)
        body = await create(client, spec)
        forged = {
            "pk": body["pk"] + 100,
            "id": body["pk"] + 100,
            "uuid": "00000000-0000-0000-0000-000000000000",
            "created": "2001-01-01T00:00:00Z",
            "modified": "2001-01-01T00:00:00Z",
            "created_by": user.username,
            "model_name": "Forged",
            "slug": "forged",
            "category": "FORGED",
        }
        # A sample's `category` is create-only (a change is a 400), not read-only.
        forged = {k: v for k, v in forged.items() if k not in CASES[spec.name].create_only}
        required = {name: body[name] for name in CASES[spec.name].put}
        response = await client.put(
            detail_url(spec, body["pk"]), json=forged | required | {"notes": "n"}
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["notes"] == "n"
        unchanged = {k: body[k] for k in forged if k in body and k != "modified"}
        assert {k: result[k] for k in unchanged} == unchanged

    @every_resource
    async def test_unknown_id_is_a_404_even_with_an_invalid_body(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        for ident in (987654321, "no-such-thing"):
            response = await client.put(detail_url(spec, ident), json={"storage_usage": "x"})
            assert NOT_FOUND in assert_problem(response, 404)["detail"]
        response = await client.put(detail_url(spec, 987654321), content=b"{not json")
        assert_problem(response, 404)

    @every_resource
    async def test_invalid_body_is_a_400_one_entry_per_field(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        body: dict[str, Any] = dict(CASES[spec.name].put)
        if spec in ISABL_SPECS:
            body |= {"storage_usage": "many", "custom_fields": [1], "notes": 5}
            locs = [["body", "custom_fields"], ["body", "notes"], ["body", "storage_usage"]]
        else:
            body, locs = {"name": ""}, [["body", "name"]]
        response = await client.put(detail_url(spec, obj.id), json=body)
        problem = assert_problem(response, 400)
        assert sorted(error["loc"] for error in problem["errors"]) == locs

    @every_resource
    async def test_malformed_json_is_a_400(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        response = await client.put(
            detail_url(spec, obj.id),
            content=b'{"notes": ',
            headers={"content-type": "application/json"},
        )
        assert_problem(response, 400, locs=[["body"]])

    @create_only_resources
    async def test_changing_create_only_fields_is_a_400_one_entry_each(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec)
        changes = CASES[spec.name].create_only
        required = CASES[spec.name].put
        response = await client.put(
            detail_url(spec, body["pk"]), json=changes | required | {"notes": "x"}
        )
        problem = assert_problem(response, 400)
        assert sorted(error["loc"] for error in problem["errors"]) == sorted(
            ["body", name] for name in changes
        )
        assert {error["type"] for error in problem["errors"]} == {"create_only"}
        after = (await client.get(detail_url(spec, body["pk"]))).json()
        assert after == body

    @create_only_resources
    async def test_sending_create_only_fields_unchanged_is_accepted(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec)
        same = {name: body[name] for name in CASES[spec.name].create_only}
        required = CASES[spec.name].put
        response = await client.put(
            detail_url(spec, body["pk"]), json=same | required | {"notes": "x"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["notes"] == "x"
        assert {k: response.json()[k] for k in same} == same


class TestPartialUpdate:
    @every_resource
    async def test_patches_with_and_without_slash(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        obj = await make(spec, session)
        field = "notes" if spec in ISABL_SPECS else "name"
        for slash in SLASHES:
            response = await client.patch(
                detail_url(spec, obj.id, slash), json={field: f"patched{slash}"}
            )
            assert response.status_code == 200, response.text
            assert response.json()[field] == f"patched{slash}"
        assert (await client.get(detail_url(spec, obj.id))).json()[field] == "patched/"

    @isabl_resources
    async def test_changes_only_the_given_fields_with_and_without_slash(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec, notes="kept", storage_url="/a")
        for slash in SLASHES:
            response = await client.patch(
                detail_url(spec, body["pk"], slash),
                json={"storage_url": f"/b{slash}"},
                follow_redirects=False,
            )
            assert response.status_code == 200, response.text
            result = response.json()
            assert (result["notes"], result["storage_url"]) == ("kept", f"/b{slash}")
        assert result | {"storage_url": "/a", "modified": body["modified"]} == body

    @isabl_resources
    async def test_replaces_tags_whole(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec, tags=["a", "b"])
        kept = await make_tag(session, name="c")
        response = await client.patch(
            detail_url(spec, body["pk"]), json={"tags": [{"pk": kept.id}, "d"]}
        )
        assert [tag["name"] for tag in response.json()["tags"]] == ["c", "d"]
        response = await client.patch(detail_url(spec, body["pk"]), json={"tags": []})
        assert response.json()["tags"] == []
        assert (await client.get(detail_url(spec, body["pk"]))).json()["tags"] == []

    @isabl_resources
    async def test_replaces_json_fields_whole(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec, custom_fields={"a": 1, "b": 2}, data={"x": {"y": 1}})
        response = await client.patch(
            detail_url(spec, body["pk"]), json={"custom_fields": {"b": 3}, "data": {"x": {}}}
        )
        assert (response.json()["custom_fields"], response.json()["data"]) == (
            {"b": 3},
            {"x": {}},
        )
        response = await client.patch(detail_url(spec, body["pk"]), json={"custom_fields": None})
        assert response.json()["custom_fields"] == {}

    @every_resource
    async def test_unknown_id_is_a_404_even_with_an_invalid_body(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        for slash in SLASHES:
            response = await client.patch(
                detail_url(spec, 987654321, slash), json={"tags": 5, "name": ""}
            )
            assert NOT_FOUND in assert_problem(response, 404)["detail"]

    @create_only_resources
    async def test_changing_a_create_only_field_is_a_400(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec)
        for name, value in CASES[spec.name].create_only.items():
            response = await client.patch(detail_url(spec, body["pk"]), json={name: value})
            assert_problem(response, 400, locs=[["body", name]])
        assert (await client.get(detail_url(spec, body["pk"]))).json() == body

    @create_only_resources
    async def test_sending_a_create_only_field_unchanged_is_accepted(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec)
        for name in CASES[spec.name].create_only:
            response = await client.patch(
                detail_url(spec, body["pk"]), json={name: body[name], "notes": name}
            )
            assert response.status_code == 200, response.text
            assert response.json()["notes"] == name

    @isabl_resources
    async def test_invalid_field_is_a_400(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec)
        response = await client.patch(detail_url(spec, body["pk"]), json={"storage_usage": "x"})
        assert_problem(response, 400, locs=[["body", "storage_usage"]])

    @isabl_resources
    async def test_field_constraints_hold_as_on_put(
        self, client: httpx.AsyncClient, spec: ResourceSpec
    ) -> None:
        body = await create(client, spec)
        response = await client.patch(
            detail_url(spec, body["pk"]), json={"storage_url": "x" * 1001}
        )
        assert_problem(response, 400, locs=[["body", "storage_url"]])


class TestDelete:
    @every_resource
    async def test_204_then_404_with_and_without_slash(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec
    ) -> None:
        for slash in SLASHES:
            obj = await make(spec, session)
            response = await client.delete(detail_url(spec, obj.id, slash), follow_redirects=False)
            assert response.status_code == 204
            assert response.content == b""
            assert_problem(await client.get(detail_url(spec, obj.id)), 404)
            assert_problem(await client.delete(detail_url(spec, obj.id, slash)), 404)
        assert (await client.get(list_url(spec))).json()["count"] == 0

    @every_resource
    async def test_by_identifier(self, client: httpx.AsyncClient, spec: ResourceSpec) -> None:
        body = await create(client, spec)
        ident = body[CASES[spec.name].identifiers[-1]]
        assert (await client.delete(detail_url(spec, ident))).status_code == 204
        assert_problem(await client.get(detail_url(spec, body["pk"])), 404)

    @every_resource
    async def test_unknown_id_is_a_404(self, client: httpx.AsyncClient, spec: ResourceSpec) -> None:
        response = await client.delete(detail_url(spec, 987654321))
        assert NOT_FOUND in assert_problem(response, 404)["detail"]

    @isabl_resources
    async def test_keeps_the_tags(self, client: httpx.AsyncClient, spec: ResourceSpec) -> None:
        body = await create(client, spec, tags=["stays"])
        assert (await client.delete(detail_url(spec, body["pk"]))).status_code == 204
        tags = (await client.get("/api/v1/tags")).json()["results"]
        assert [tag["name"] for tag in tags] == ["stays"]
