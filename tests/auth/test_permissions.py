"""Authorisation over the whole app: every route is closed without credentials (but the
open ones), and every write of every resource needs its model permission (SPEC §7).

Both walks are generated from `app.routes` and `app.state.registry`: a resource or route
added later is covered without touching these tests, and the route count below changes
with the registry (a new non-resource route must be added to `CLOSED_EXTRA` or `OPEN`).
"""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.api.factory import ResourceSpec
from labapi.auth.models import Group, Permission, User
from labapi.auth.permissions import ACTION_PERMISSIONS, has_permission, permission_label
from labapi.isabl import files
from tests.auth.conftest import assert_forbidden, assert_unauthorized, make_row
from tests.conftest import client_as, make_user

# Routes anyone may call: (method, path without trailing slash).
OPEN = {
    ("POST", "/api/v1/rest-auth/login"),
    ("POST", "/api/v1/rest-auth/password/reset"),
    ("POST", "/api/v1/rest-auth/password/reset/confirm"),
    ("POST", "/api/v1/rest-auth/registration"),
    ("POST", "/api/v1/rest-auth/registration/verify-email"),
    ("GET", "/api/v1/rest-auth/registration/account-confirm-email/{key}"),
    ("GET", "/api/v1/rest-auth/registration/settings"),
    ("POST", "/api/auth/token"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", files.IGV_JS_PATH),
    ("GET", "/api/v1/warmup"),
}
# The documentation (GET and HEAD, no trailing-slash twin).
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# Closed routes that are not generated from the registry.
CLOSED_EXTRA = {
    ("GET", "/metrics"),
    ("GET", "/api/v1/rest-auth/logout"),
    ("POST", "/api/v1/rest-auth/logout"),
    ("POST", "/api/v1/rest-auth/password/change"),
    ("GET", "/api/v1/rest-auth/user"),
    ("PUT", "/api/v1/rest-auth/user"),
    ("PATCH", "/api/v1/rest-auth/user"),
    ("GET", "/api/v1/auth"),
    ("GET", "/api/v1/preferences"),
    ("PUT", "/api/v1/preferences"),
    ("PATCH", "/api/v1/preferences"),
    # The file routes (analyses/stream/<id> …), whichever are registered.
    *((method, path) for method, path in files.CLOSED_ROUTES if not path.endswith("/")),
    ("GET", "/api/v1/submissions/download"),
    ("POST", "/api/v1/submissions/process/{id}"),
    ("PATCH", "/api/v1/analyses/bulk_update"),
    ("GET", "/api/v1/individuals/tree"),
    ("GET", "/api/v1/individuals/tree/{id}"),
    ("GET", "/api/v1/system_id/{system_id}"),
    ("POST", "/api/v1/send_email"),
}
ACTION_ROUTES = {
    "list": ("GET", ""),
    "create": ("POST", ""),
    "read": ("GET", "/{id}"),
    "update": ("PUT", "/{id}"),
    "partial_update": ("PATCH", "/{id}"),
    "delete": ("DELETE", "/{id}"),
    "describe": ("GET", "/describe"),
}
WRITES = ("create", "update", "partial_update", "delete")
UNKNOWN_IDS = ("999999999", "no-such-object")


def registry(app: FastAPI) -> tuple[ResourceSpec, ...]:
    specs: tuple[ResourceSpec, ...] = app.state.registry
    return specs


def resource_routes(spec: ResourceSpec) -> set[tuple[str, str]]:
    """(method, path) of every generated route of a resource, without trailing slash."""
    prefix = f"{spec.surface.prefix}/{spec.name}"
    return {
        (ACTION_ROUTES[action][0], prefix + ACTION_ROUTES[action][1]) for action in spec.actions
    }


def all_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, as routed."""
    return [
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in sorted(context.methods or ())
    ]


def concrete(path: str) -> str:
    return path.replace("{id}", "1").replace("{key}", "MQ:1-abc").replace("{system_id}", "X")


def write_paths(spec: ResourceSpec, action: str, ident: str) -> list[str]:
    """Both slash forms of the path of a write."""
    base = f"{spec.surface.prefix}/{spec.name}"
    path = base if action == "create" else f"{base}/{ident}"
    return [path, path + "/"]


def required_fields(spec: Any) -> list[str]:
    """The fields a create body must carry."""
    return [name for name, info in spec.create.model_fields.items() if info.is_required()]


async def write(client: httpx.AsyncClient, action: str, path: str) -> httpx.Response:
    method = ACTION_ROUTES[action][0]
    if method == "DELETE":
        return await client.delete(path)
    return await client.request(method, path, json={})


class TestEveryRouteIsClosed:
    def test_the_walk_covers_the_registry(self, app: FastAPI) -> None:
        routes = all_routes(app)
        generated = {route for spec in registry(app) for route in resource_routes(spec)}
        assert generated.isdisjoint(CLOSED_EXTRA | OPEN)
        expected = {
            (method, variant)
            for method, path in generated | CLOSED_EXTRA | OPEN
            for variant in (path, path + "/")
        } | {(method, path) for path in DOCS for method in ("GET", "HEAD")}
        # Every route is known (none added without being classified), each path in both
        # slash forms, and nothing is served twice.
        assert sorted(routes) == sorted(expected)
        closed = [route for route in routes if route[1].rstrip("/") not in DOCS]
        closed = [route for route in closed if (route[0], route[1].rstrip("/")) not in OPEN]
        per_resource = sum(2 * len(spec.actions) for spec in registry(app))
        assert len(closed) == per_resource + 2 * len(CLOSED_EXTRA)
        # 8 Isabl resources x 6 actions x 2 forms + 10 other closed endpoints x 2 forms,
        # and the facility's classes (list, read, writes, describe) today.
        assert len(closed) >= 116 + 48 * 7 * 2

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({}, id="no-credentials"),
            pytest.param({"Authorization": "Token " + "f" * 40}, id="unknown-key"),
        ],
    )
    async def test_every_route_but_the_open_ones_is_a_401(
        self, app: FastAPI, anon_client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        checked = 0
        for method, path in all_routes(app):
            if path.rstrip("/") in DOCS or (method, path.rstrip("/")) in OPEN:
                continue
            body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = await anon_client.request(method, concrete(path), headers=headers, **body)
            assert_unauthorized(response)
            checked += 1
        assert checked == sum(2 * len(spec.actions) for spec in registry(app)) + 2 * len(
            CLOSED_EXTRA
        )

    async def test_the_open_routes_answer_without_credentials(
        self, app: FastAPI, anon_client: httpx.AsyncClient
    ) -> None:
        checked = 0
        for method, path in all_routes(app):
            if path.rstrip("/") in DOCS or (method, path.rstrip("/")) in OPEN:
                body: dict[str, Any] = {"json": {}} if method == "POST" else {}
                response = await anon_client.request(method, concrete(path), **body)
                # Closed registration is a 403; empty bodies are 400s; docs are 200s.
                assert response.status_code in (200, 400, 403), (method, path, response.text)
                checked += 1
        assert checked == 2 * len(OPEN) + 2 * len(DOCS)


@pytest.fixture
async def rows(session: AsyncSession, app: FastAPI) -> dict[str, Any]:
    """One stored object of every resource, by resource name."""
    return {spec.name: await make_row(session, spec.model, **spec.fixed) for spec in registry(app)}


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestReadOnlyUser:
    async def test_every_write_of_every_resource_is_a_403(
        self, app: FastAPI, session: AsyncSession, rows: dict[str, Any]
    ) -> None:
        reader = await make_user(session, "reader")
        before = {spec.name: await count(session, spec.model) for spec in registry(app)}
        checked = 0
        async with client_as(app, session, reader) as client:
            for spec in registry(app):
                for action in WRITES:
                    if action not in spec.actions:
                        continue
                    idents = (str(rows[spec.name].id), *UNKNOWN_IDS)
                    for ident in idents if action != "create" else ("",):
                        for path in write_paths(spec, action, ident):
                            body = assert_forbidden(await write(client, action, path))
                            label = permission_label(spec.model, ACTION_PERMISSIONS[action])
                            assert label in body["detail"]
                            checked += 1
        after = {spec.name: await count(session, spec.model) for spec in registry(app)}
        assert after == before
        # create: 2 forms; update/partial_update/delete: 3 ids x 2 forms (read-only
        # resources have none).
        assert checked == sum(
            (2 if "create" in spec.actions else 0)
            + 3 * 2 * len({"update", "partial_update", "delete"} & set(spec.actions))
            for spec in registry(app)
        )

    async def test_a_post_with_a_valid_body_is_a_403(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        reader = await make_user(session, "reader")
        async with client_as(app, session, reader) as client:
            response = await client.post("/api/v1/centers", json={"name": "X", "acronym": "X"})
            assert_forbidden(response)
            response = await client.post("/api/v1/users", json={"username": "mallory"})
            assert_forbidden(response)
        assert await session.scalar(select(User).where(User.username == "mallory")) is None

    async def test_every_read_of_every_resource_is_a_200(
        self, app: FastAPI, session: AsyncSession, rows: dict[str, Any]
    ) -> None:
        reader = await make_user(session, "reader")
        async with client_as(app, session, reader) as client:
            for spec in registry(app):
                base = f"{spec.surface.prefix}/{spec.name}"
                # Each surface's envelope: `count` (Isabl) or `meta.filtered_count`.
                facility = spec.surface.envelope == "meta"
                for path in (base, base + "/"):
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.text)
                    body = response.json()
                    assert (body["meta"]["filtered_count"] if facility else body["count"]) >= 1
                for path in (f"{base}/{rows[spec.name].id}", f"{base}/{rows[spec.name].id}/"):
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.text)
                    assert response.json()["id" if facility else "pk"] == rows[spec.name].id
                if "describe" in spec.actions:
                    response = await client.get(f"{base}/describe")
                    assert response.status_code == 200, (base, response.text)


class TestOnePermission:
    async def test_add_center_allows_posting_centers_and_nothing_else(
        self, app: FastAPI, session: AsyncSession, rows: dict[str, Any]
    ) -> None:
        user = await make_user(session, "curator", permissions=("isabl.add_center",))
        async with client_as(app, session, user) as client:
            response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "C"})
            assert response.status_code == 201, response.text
            for spec in registry(app):
                for action in WRITES:
                    if action not in spec.actions or (spec.name, action) == ("centers", "create"):
                        continue
                    for path in write_paths(spec, action, str(rows[spec.name].id)):
                        assert_forbidden(await write(client, action, path))

    async def test_each_permission_opens_exactly_its_writes(
        self, app: FastAPI, session: AsyncSession, rows: dict[str, Any]
    ) -> None:
        for spec in registry(app):
            for code in ("add", "change", "delete"):
                label = permission_label(spec.model, code)
                user = await make_user(session, f"{spec.name}-{code}", permissions=(label,))
                async with client_as(app, session, user) as client:
                    for action in WRITES:
                        if action not in spec.actions:
                            continue
                        # An unknown id: the allowed write gets past the 403 to a 404.
                        path = write_paths(spec, action, UNKNOWN_IDS[0])[0]
                        response = await write(client, action, path)
                        if ACTION_PERMISSIONS[action] == code:
                            # `{}` is a whole body only where nothing is required (projects).
                            allowed = (400, 404) if required_fields(spec) else (201, 404)
                            assert response.status_code in allowed, (label, action, path)
                        else:
                            assert_forbidden(response)

    async def test_view_permission_grants_no_write(
        self, app: FastAPI, session: AsyncSession, rows: dict[str, Any]
    ) -> None:
        user = await make_user(session, "viewer", permissions=("isabl.view_center",))
        async with client_as(app, session, user) as client:
            for action in WRITES:
                for path in write_paths(registry(app)[0], action, UNKNOWN_IDS[0]):
                    assert_forbidden(await write(client, action, path))
                spec = next(spec for spec in registry(app) if spec.name == "centers")
                assert_forbidden(await write(client, action, write_paths(spec, action, "1")[0]))

    async def test_a_permission_of_another_model_does_not_leak(
        self, app: FastAPI, session: AsyncSession, rows: dict[str, Any]
    ) -> None:
        # `isabl.add_group` (research groups) must not open `auth` groups or users.
        user = await make_user(session, "grouper", permissions=("isabl.add_group",))
        async with client_as(app, session, user) as client:
            response = await client.post("/api/v1/groups", json={"name": "G", "acronym": "G"})
            assert response.status_code == 201, response.text
            assert_forbidden(await client.post("/api/v1/users", json={"username": "x"}))


class TestGroupPermissions:
    async def _group(self, session: AsyncSession, name: str, *labels: str) -> Group:
        permissions = [
            p for p in await session.scalars(select(Permission)) if p.label in set(labels)
        ]
        assert len(permissions) == len(labels)
        group = Group(name=name, permissions=permissions)
        session.add(group)
        await session.flush()
        return group

    async def test_a_group_permission_is_granted_to_its_members(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        group = await self._group(session, "curators", "isabl.add_center")
        member = await make_user(session, "member", groups=[group])
        outsider = await make_user(session, "outsider")
        assert await has_permission(session, member, "isabl.add_center")
        assert not await has_permission(session, outsider, "isabl.add_center")
        async with client_as(app, session, member) as client:
            response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "C"})
            assert response.status_code == 201, response.text
            assert_forbidden(await client.post("/api/v1/diseases", json={"name": "D"}))
        async with client_as(app, session, outsider) as client:
            response = await client.post("/api/v1/centers", json={"name": "D", "acronym": "D"})
            assert_forbidden(response)

    async def test_leaving_the_group_revokes_the_permission(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        group = await self._group(session, "curators", "isabl.add_center")
        member = await make_user(session, "member", groups=[group])
        async with client_as(app, session, member) as client:
            response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "C"})
            assert response.status_code == 201, response.text
            await session.refresh(member, ["groups"])
            member.groups = []
            await session.flush()
            response = await client.post("/api/v1/centers", json={"name": "D", "acronym": "D"})
            assert_forbidden(response)

    async def test_superuser_needs_no_permission(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "C"})
        assert response.status_code == 201, response.text
        response = await client.delete(f"/api/v1/centers/{response.json()['pk']}")
        assert response.status_code == 204, response.text
