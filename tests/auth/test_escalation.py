"""Privilege escalation and secret oracles: a user cannot grant itself anything through
`preferences/` or the users resource, and secret columns cannot be probed through
filters, ordering or search (SPEC §2, §5, §7)."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import Group, Permission, User
from labapi.auth.permissions import user_permission_labels
from tests.auth.conftest import assert_forbidden, password_hash
from tests.conftest import client_as, make_user

PREFS = "/api/v1/preferences/"


async def grants(session: AsyncSession, user: User) -> tuple[list[str], list[str], bool, Any]:
    """What a user holds, read afresh from the database."""
    await session.flush()
    await session.refresh(user, ["groups", "is_superuser", "preferences"])
    labels = sorted(await user_permission_labels(session, user))
    return labels, sorted(g.name for g in user.groups), user.is_superuser, user.preferences


async def make_group(session: AsyncSession, name: str, *labels: str) -> Group:
    permissions = [p for p in await session.scalars(select(Permission)) if p.label in labels]
    group = Group(name=name, permissions=permissions)
    session.add(group)
    await session.flush()
    return group


class TestPreferencesEscalation:
    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    @pytest.mark.parametrize(
        "grant",
        [
            pytest.param({"is_superuser": True}, id="superuser"),
            pytest.param({"permissions": ["isabl.add_center", "auth.change_user"]}, id="perms"),
            pytest.param({"groups": ["admins"]}, id="groups"),
            pytest.param({"permissions": []}, id="drop-perms"),
            pytest.param({"groups": []}, id="leave-groups"),
        ],
    )
    async def test_a_user_cannot_change_its_grants(
        self, app: FastAPI, session: AsyncSession, method: str, grant: dict[str, Any]
    ) -> None:
        await make_group(session, "admins", "auth.change_user")
        readers = await make_group(session, "readers", "isabl.view_center")
        user = await make_user(
            session,
            "alice",
            permissions=("isabl.change_center",),
            groups=[readers],
            preferences={"theme": "dark"},
        )
        before = await grants(session, user)
        async with client_as(app, session, user) as client:
            current = (await client.get(PREFS)).json()
            body = (current if method == "PUT" else {}) | grant | {"preferences": {"x": 1}}
            problem = assert_forbidden(await client.request(method, PREFS, json=body))
            assert "superuser" in problem["detail"]
            assert (await client.get(PREFS)).json() == current
        # Nothing changed, the preferences of the same request included.
        assert await grants(session, user) == before

    async def test_a_user_can_change_its_preferences(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        readers = await make_group(session, "readers", "isabl.view_center")
        user = await make_user(
            session, "alice", permissions=("isabl.add_center",), groups=[readers]
        )
        async with client_as(app, session, user) as client:
            response = await client.patch(PREFS, json={"preferences": {"theme": "dark"}})
            assert response.status_code == 200, response.text
            assert response.json() == {
                "preferences": {"theme": "dark"},
                "permissions": ["isabl.add_center", "isabl.view_center"],
                "groups": ["readers"],
                "is_superuser": False,
            }
            # A PUT of what GET shows, with new preferences, changes only those.
            current = (await client.get(PREFS)).json()
            response = await client.put(PREFS, json=current | {"preferences": {"a": [1]}})
            assert response.status_code == 200, response.text
            # Restating one's grants in another order is no change either.
            response = await client.patch(
                PREFS,
                json={
                    "permissions": ["isabl.view_center", "isabl.add_center"],
                    "groups": ["readers"],
                    "is_superuser": False,
                },
            )
            assert response.status_code == 200, response.text
        labels, groups, superuser, preferences = await grants(session, user)
        assert (labels, groups, superuser) == (
            ["isabl.add_center", "isabl.view_center"],
            ["readers"],
            False,
        )
        assert preferences == {"a": [1]}

    async def test_a_superuser_can_grant(self, app: FastAPI, session: AsyncSession) -> None:
        await make_group(session, "admins", "auth.change_user")
        root = await make_user(session, "boss", superuser=True)
        async with client_as(app, session, root) as client:
            response = await client.patch(
                PREFS, json={"permissions": ["isabl.add_center"], "groups": ["admins"]}
            )
            assert response.status_code == 200, response.text
            assert response.json()["groups"] == ["admins"]
            assert set(response.json()["permissions"]) == {"isabl.add_center", "auth.change_user"}
            response = await client.patch(PREFS, json={"permissions": ["no.such_permission"]})
            assert response.status_code == 400, response.text
            response = await client.patch(PREFS, json={"groups": ["no-such-group"]})
            assert response.status_code == 400, response.text
            response = await client.patch(PREFS, json={"is_superuser": False})
            assert response.status_code == 200, response.text
        labels, groups, superuser, _ = await grants(session, root)
        assert (labels, groups, superuser) == (
            ["auth.change_user", "isabl.add_center"],
            ["admins"],
            False,
        )

    async def test_a_former_superuser_cannot_grant_back(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        root = await make_user(session, "boss", superuser=True)
        async with client_as(app, session, root) as client:
            response = await client.patch(PREFS, json={"is_superuser": False})
            assert response.status_code == 200, response.text
            assert_forbidden(await client.patch(PREFS, json={"is_superuser": True}))
        assert not (await grants(session, root))[2]


class TestUsersResourceEscalation:
    SECRETS = {
        "is_superuser": True,
        "is_active": False,
        "password": "chosen-password",
        "user_permissions": [1, 2],
        "groups": [1],
        "preferences": {"x": 1},
        "date_joined": "2000-01-01T00:00:00Z",
    }

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_an_update_changes_no_protected_field(
        self, app: FastAPI, session: AsyncSession, method: str
    ) -> None:
        editor = await make_user(session, "editor", permissions=("auth.change_user",))
        target = await make_user(session, "target")
        target.password = password_hash()
        for user in (editor, target):
            async with client_as(app, session, editor) as client:
                body = {"username": user.username, "first_name": "F"} | self.SECRETS
                response = await client.request(method, f"/api/v1/users/{user.id}", json=body)
                assert response.status_code == 200, response.text
            await session.flush()
            await session.refresh(user, ["user_permissions", "groups"])
            assert (user.is_superuser, user.is_active) == (False, True)
            assert user.password in ("", password_hash())
            assert user.preferences == {}
            assert user.groups == []
            assert user.first_name == "F"
        assert editor.user_permissions[0].label == "auth.change_user"
        assert len(editor.user_permissions) == 1

    async def test_a_superuser_update_changes_no_protected_field_either(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        target = await make_user(session, "target")
        body = {"username": "target"} | self.SECRETS
        response = await client.patch(f"/api/v1/users/{target.id}", json=body)
        assert response.status_code == 200, response.text
        await session.refresh(target)
        assert (target.is_superuser, target.is_active, target.password) == (False, True, "")

    async def test_a_create_sets_no_protected_field(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        creator = await make_user(session, "creator", permissions=("auth.add_user",))
        async with client_as(app, session, creator) as client:
            body = {"username": "newbie"} | self.SECRETS
            response = await client.post("/api/v1/users", json=body)
            assert response.status_code == 201, response.text
        user = await session.scalar(select(User).where(User.username == "newbie"))
        assert user is not None
        assert (user.is_superuser, user.is_active, user.password) == (False, True, "")

    async def test_a_create_never_overwrites_an_existing_user(
        self, app: FastAPI, session: AsyncSession, superuser: User
    ) -> None:
        creator = await make_user(session, "creator", permissions=("auth.add_user",))
        async with client_as(app, session, creator) as client:
            body = {"username": "root", "email": "creator@example.org", "first_name": "Me"}
            response = await client.post("/api/v1/users", json=body)
            assert response.status_code == 200, response.text
            response = await client.post("/api/v1/users", json={"pk": superuser.id, **body})
            assert response.status_code == 200, response.text
        await session.refresh(superuser)
        assert (superuser.email, superuser.first_name) == ("root@example.org", "")

    async def test_a_user_cannot_edit_itself_without_change_user(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        async with client_as(app, session, user) as client:
            response = await client.patch(f"/api/v1/users/{user.id}", json={"is_superuser": True})
            assert_forbidden(response)


class TestAttribution:
    async def test_only_a_superuser_creates_on_behalf_of_others(
        self, app: FastAPI, session: AsyncSession, superuser: User
    ) -> None:
        user = await make_user(session, "alice", permissions=("isabl.add_center",))
        async with client_as(app, session, user) as client:
            body = {"name": "C", "acronym": "C", "created_by": "root"}
            assert_forbidden(await client.post("/api/v1/centers", json=body))
            response = await client.post("/api/v1/centers", json=body | {"created_by": "alice"})
            assert response.status_code == 201, response.text
            assert response.json()["created_by"] == "alice"
        async with client_as(app, session, superuser) as client:
            body = {"name": "D", "acronym": "D", "created_by": "alice"}
            response = await client.post("/api/v1/centers", json=body)
            assert response.status_code == 201, response.text
            assert response.json()["created_by"] == "alice"

    async def test_an_update_cannot_reattribute(self, app: FastAPI, session: AsyncSession) -> None:
        user = await make_user(
            session, "alice", permissions=("isabl.add_center", "isabl.change_center")
        )
        async with client_as(app, session, user) as client:
            response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "C"})
            assert response.status_code == 201, response.text
            pk = response.json()["pk"]
            for method in ("PUT", "PATCH"):
                response = await client.request(
                    method, f"/api/v1/centers/{pk}", json={"created_by": "root", "notes": "n"}
                )
                assert response.status_code == 200, response.text
                assert response.json()["created_by"] == "alice"


# Lookups on secrets, each with a twin naming a field that does not exist.
SECRET_PARAMS = {
    "users": [
        ("password=x", "password", "nosuchfield"),
        ("password", "password", "nosuchfield"),
        ("password__startswith=%24argon2", "password", "nosuchfield"),
        ("password!=x", "password", "nosuchfield"),
        ("tokens__key_hash=abc", "tokens", "nosuchfield"),
        ("tokens__key_hash__startswith=a", "tokens", "nosuchfield"),
        ("tokens__isnull=false", "tokens", "nosuchfield"),
        ("tokens__created__year=2026", "tokens", "nosuchfield"),
        ("[username,password]__icontains=a", "password", "nosuchfield"),
        ("ordering=password", "password", "nosuchfield"),
        ("ordering=-password", "password", "nosuchfield"),
        ("ordering=tokens__key_hash", "tokens", "nosuchfield"),
    ],
    "centers": [
        ("created_by__password__startswith=", "password", "nosuchfield"),
        ("created_by__password=x", "password", "nosuchfield"),
        ("created_by__password__isnull=false", "password", "nosuchfield"),
        ("created_by__tokens__key_hash=abc", "tokens", "nosuchfield"),
        ("created_by__tokens__key_hash__startswith=a", "tokens", "nosuchfield"),
        ("ordering=created_by__password", "password", "nosuchfield"),
        ("ordering=-created_by__password", "password", "nosuchfield"),
    ],
}


class TestSecretOracles:
    @pytest.mark.parametrize(
        ("resource", "query", "secret", "twin"),
        [(name, *case) for name, cases in SECRET_PARAMS.items() for case in cases],
    )
    async def test_a_secret_is_as_unknown_as_a_missing_field(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        superuser: User,
        resource: str,
        query: str,
        secret: str,
        twin: str,
    ) -> None:
        superuser.password = password_hash()  # a hash a leaky lookup would match
        response = await client.get(f"/api/v1/{resource}?{query}")
        twin_response = await client.get(f"/api/v1/{resource}?{query.replace(secret, twin)}")
        assert response.status_code == 400, response.text
        assert twin_response.status_code == 400, twin_response.text
        assert response.json()["code"] == twin_response.json()["code"]
        # Identical but for the name itself.
        rendered = json.dumps(response.json(), sort_keys=True).replace(secret, "<name>")
        twin_rendered = json.dumps(twin_response.json(), sort_keys=True).replace(twin, "<name>")
        assert rendered == twin_rendered
        assert "key_hash" not in response.text or "key_hash" in query

    async def test_search_does_not_look_at_passwords(
        self, client: httpx.AsyncClient, session: AsyncSession, superuser: User
    ) -> None:
        superuser.password = password_hash()
        await session.flush()
        for term in ("argon2", password_hash()[-12:]):
            response = await client.get("/api/v1/users", params={"search": term})
            assert response.status_code == 200, response.text
            assert response.json()["count"] == 0
        response = await client.get("/api/v1/users", params={"search": "root"})
        assert response.json()["count"] == 1

    async def test_public_user_fields_still_filter(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        # The refusals above are about secrets, not about users in general.
        for query in ("username=root", "is_superuser=true", "ordering=-username"):
            response = await client.get(f"/api/v1/users?{query}")
            assert response.status_code == 200, (query, response.text)
        response = await client.get("/api/v1/centers?created_by__username=root")
        assert response.status_code == 200, response.text


class TestSuperusersAreProtected:
    async def test_change_user_cannot_touch_a_superuser(
        self, app: FastAPI, session: AsyncSession, superuser: User
    ) -> None:
        editor = await make_user(
            session, "editor", permissions=("auth.change_user", "auth.delete_user")
        )
        async with client_as(app, session, editor) as client:
            patch = await client.patch(
                f"/api/v1/users/{superuser.id}", json={"email": "evil@example.org"}
            )
            assert_forbidden(patch)
            assert_forbidden(await client.delete(f"/api/v1/users/{superuser.id}"))
            other = await make_user(session, "plain")
            ok = await client.patch(f"/api/v1/users/{other.id}", json={"first_name": "P"})
            assert ok.status_code == 200, ok.text
        await session.refresh(superuser)
        assert superuser.email == "root@example.org"

    async def test_a_superuser_may(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin = await make_user(session, "admin2", superuser=True)
        response = await client.patch(f"/api/v1/users/{admin.id}", json={"first_name": "A"})
        assert response.status_code == 200, response.text
