"""rest-auth (login, logout, password change and reset, registration, the caller's user)
and the facility token endpoint (auth/endpoints.py)."""

import re
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import Token, User
from labapi.auth.tokens import encode_uid, issue_token, make_link_token
from labapi.main import create_app
from tests.auth.conftest import (
    PASSWORD,
    PROBLEM_JSON,
    assert_forbidden,
    assert_unauthorized,
    basic,
    outbox,
    token,
    user_with_password,
)
from tests.conftest import app_client, client_as, make_user, settings_for

V1 = "/api/v1"
LOGIN = f"{V1}/rest-auth/login/"
LOGOUT = f"{V1}/rest-auth/logout/"
CHANGE = f"{V1}/rest-auth/password/change/"
RESET = f"{V1}/rest-auth/password/reset/"
CONFIRM = f"{V1}/rest-auth/password/reset/confirm/"
REGISTER = f"{V1}/rest-auth/registration/"
VERIFY = f"{V1}/rest-auth/registration/verify-email/"
ME = f"{V1}/rest-auth/user/"
PROBE = f"{V1}/auth/"
SIGNING_KEY = b"test-secret-key"  # tests.conftest.settings_for


async def login(client: httpx.AsyncClient, **body: str) -> httpx.Response:
    return await client.post(LOGIN, json=body)


async def key_of(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await login(client, username=username, password=password)
    assert response.status_code == 200, response.text
    key: str = response.json()["key"]
    return key


async def works(client: httpx.AsyncClient, key: str) -> bool:
    response = await client.get(PROBE, headers=token(key))
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def reload(session: AsyncSession, user: User) -> User:
    await session.flush()
    await session.refresh(user)
    return user


class TestLogin:
    async def test_json_by_username(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await user_with_password(session, "alice")
        response = await login(anon_client, username="alice", password=PASSWORD)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"key"}
        assert await works(anon_client, response.json()["key"])
        assert (await reload(session, user)).last_login is not None

    async def test_form_encoded_by_username(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice")
        response = await anon_client.post(LOGIN, data={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert await works(anon_client, response.json()["key"])

    @pytest.mark.parametrize(
        "body",
        [
            {"email": "Alice@Example.org"},
            {"username": "alice@example.org"},
            {"username": "", "email": "alice@example.org"},
        ],
    )
    async def test_by_email(
        self, anon_client: httpx.AsyncClient, session: AsyncSession, body: dict[str, str]
    ) -> None:
        await user_with_password(session, "alice", email="alice@example.org")
        response = await login(anon_client, **body, password=PASSWORD)
        assert response.status_code == 200, response.text
        assert (await anon_client.get(PROBE, headers=token(response.json()["key"]))).json()[
            "username"
        ] == "alice"

    async def test_an_email_shared_by_two_users_logs_nobody_in(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice", email="lab@example.org")
        await user_with_password(session, "bob", email="lab@example.org")
        response = await login(anon_client, email="lab@example.org", password=PASSWORD)
        assert response.status_code == 400, response.text

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"username": "alice", "password": PASSWORD + "!"}, id="wrong-password"),
            pytest.param({"username": "nobody", "password": PASSWORD}, id="unknown-user"),
            pytest.param({"username": "inactive", "password": PASSWORD}, id="inactive-user"),
            pytest.param({"username": "nopassword", "password": PASSWORD}, id="no-password"),
            pytest.param({"username": "ALICE", "password": PASSWORD}, id="username-case"),
            pytest.param({"email": "no@where.org", "password": PASSWORD}, id="unknown-email"),
            pytest.param({"password": PASSWORD}, id="no-login"),
        ],
    )
    async def test_bad_credentials_are_a_400_with_non_field_errors(
        self, anon_client: httpx.AsyncClient, session: AsyncSession, body: dict[str, str]
    ) -> None:
        await user_with_password(session, "alice")
        await user_with_password(session, "inactive", is_active=False)
        await make_user(session, "nopassword")
        response = await login(anon_client, **body)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        problem = response.json()
        assert problem["non_field_errors"] == ["Unable to log in with provided credentials."]
        assert problem["status"] == 400
        assert "key" not in problem
        assert await session.scalar(select(Token.id)) is None

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"", id="empty"),
            pytest.param(b"{", id="bad-json"),
            pytest.param(b"[]", id="list"),
            pytest.param(b'{"username": "alice"}', id="no-password"),
            pytest.param(b'{"username": "alice", "password": ""}', id="empty-password"),
            pytest.param(b'{"username": ["alice"], "password": "x"}', id="list-username"),
            pytest.param(b'{"username": "al\\u0000ice", "password": "x"}', id="nul-username"),
            pytest.param(b'{"email": "a@b.org\\u0000", "password": "x"}', id="nul-email"),
        ],
    )
    async def test_a_malformed_body_is_a_400(
        self, anon_client: httpx.AsyncClient, body: bytes
    ) -> None:
        response = await anon_client.post(
            LOGIN, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text

    async def test_logging_in_twice_keeps_the_first_key(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice")
        first = await key_of(anon_client, "alice")
        second = await key_of(anon_client, "alice")
        assert first != second
        assert await works(anon_client, first)
        assert await works(anon_client, second)


class TestFacilityToken:
    async def test_the_token_works_on_both_surfaces(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice")
        response = await anon_client.post(
            "/api/auth/token", json={"username": "alice", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"token"}
        assert await works(anon_client, response.json()["token"])

    async def test_bad_credentials_are_a_400(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice")
        response = await anon_client.post(
            "/api/auth/token", data={"username": "alice", "password": "nope"}
        )
        assert response.status_code == 400, response.text
        assert "token" not in response.json()


class TestLogout:
    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_invalidates_only_the_key_it_is_called_with(
        self, anon_client: httpx.AsyncClient, session: AsyncSession, method: str
    ) -> None:
        alice = await make_user(session, "alice")
        bob = await make_user(session, "bob")
        first, second = await issue_token(session, alice), await issue_token(session, alice)
        bobs = await issue_token(session, bob)
        response = await anon_client.request(method, LOGOUT, headers=token(first))
        assert response.status_code == 200, response.text
        assert not await works(anon_client, first)
        assert await works(anon_client, second)
        assert await works(anon_client, bobs)
        # The same key cannot log out twice.
        assert_unauthorized(await anon_client.request(method, LOGOUT, headers=token(first)))

    async def test_logout_with_basic_deletes_no_key(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        alice = await user_with_password(session, "alice")
        key = await issue_token(session, alice)
        response = await anon_client.post(LOGOUT, headers=basic("alice", PASSWORD))
        assert response.status_code == 200, response.text
        assert await works(anon_client, key)


class TestPasswordChange:
    async def test_the_new_password_logs_in_and_the_old_does_not(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice")
        key = await key_of(anon_client, "alice")
        response = await anon_client.post(
            CHANGE,
            headers=token(key),
            json={
                "old_password": PASSWORD,
                "new_password1": "n3w:pass",
                "new_password2": "n3w:pass",
            },
        )
        assert response.status_code == 200, response.text
        assert await works(anon_client, await key_of(anon_client, "alice", "n3w:pass"))
        assert (await login(anon_client, username="alice", password=PASSWORD)).status_code == 400

    async def test_mismatched_new_passwords_are_a_400(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        alice = await user_with_password(session, "alice")
        before = alice.password
        async with client_as(app, session, alice) as client:
            response = await client.post(
                CHANGE, json={"new_password1": "abcdef", "new_password2": "abcdeF"}
            )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "new_password2"]
        assert (await reload(session, alice)).password == before

    async def test_a_wrong_old_password_is_a_400(self, app: FastAPI, session: AsyncSession) -> None:
        alice = await user_with_password(session, "alice")
        before = alice.password
        async with client_as(app, session, alice) as client:
            response = await client.post(
                CHANGE,
                json={"old_password": "guess", "new_password1": "x1", "new_password2": "x1"},
            )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "old_password"]
        assert (await reload(session, alice)).password == before

    async def test_needs_credentials(self, anon_client: httpx.AsyncClient) -> None:
        response = await anon_client.post(
            CHANGE, json={"new_password1": "x1", "new_password2": "x1"}
        )
        assert_unauthorized(response)


def link_of(body: str) -> tuple[str, str]:
    uid = re.search(r"uid=(\S+)", body)
    found = re.search(r"token=(\S+)", body)
    assert uid, body
    assert found, body
    return uid.group(1), found.group(1)


class TestPasswordReset:
    async def _request(self, client: httpx.AsyncClient, email: str) -> httpx.Response:
        response = await client.post(RESET, json={"email": email})
        assert response.status_code == 200, response.text
        return response

    async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, "alice", email="alice@example.org")
        await make_user(session, "ghost", email="ghost@example.org", is_active=False)
        unknown = await self._request(anon_client, "nobody@example.org")
        inactive = await self._request(anon_client, "ghost@example.org")
        assert await outbox(session) == []
        known = await self._request(anon_client, "alice@example.org")
        assert unknown.json() == inactive.json() == known.json()
        assert len(await outbox(session)) == 1

    async def test_a_known_address_gets_a_mail_with_uid_and_token(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice", email="alice@example.org")
        await self._request(anon_client, "ALICE@example.org")
        (mail,) = await outbox(session)
        assert mail.recipients == ["alice@example.org"]
        uid, link = link_of(mail.body)
        assert uid == encode_uid(alice.id)
        assert re.fullmatch(r"[0-9a-z]+-[0-9a-f]{32}", link)

    async def test_the_mail_does_not_follow_the_host_header(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        # A link built from the Host header lets anyone send a victim a reset mail that
        # hands its token to the attacker's server.
        await make_user(session, "alice", email="alice@example.org")
        response = await anon_client.post(
            RESET, json={"email": "alice@example.org"}, headers={"Host": "evil.example"}
        )
        assert response.status_code == 200, response.text
        (mail,) = await outbox(session)
        assert "evil.example" not in mail.body
        assert "/api/v1/rest-auth/password/reset/confirm/" in mail.body

    async def test_confirm_sets_the_password_and_revokes_every_key(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice", email="alice@example.org")
        bob = await make_user(session, "bob")
        keys = [await issue_token(session, alice) for _ in range(2)]
        bobs = await issue_token(session, bob)
        await self._request(anon_client, "alice@example.org")
        uid, link = link_of((await outbox(session))[0].body)
        body = {"uid": uid, "token": link, "new_password1": "N3w", "new_password2": "N3w"}
        response = await anon_client.post(CONFIRM, json=body)
        assert response.status_code == 200, response.text
        for key in keys:
            assert not await works(anon_client, key)
        assert await works(anon_client, bobs)
        assert await works(anon_client, await key_of(anon_client, "alice", "N3w"))
        # The same link cannot be used twice.
        body |= {"new_password1": "again", "new_password2": "again"}
        response = await anon_client.post(CONFIRM, json=body)
        assert response.status_code == 400, response.text
        assert (await login(anon_client, username="alice", password="again")).status_code == 400

    async def test_a_password_change_kills_the_link(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice", email="alice@example.org")
        link = make_link_token(SIGNING_KEY, alice, "password-reset")
        async with client_as(app, session, alice) as client:
            response = await client.post(
                CHANGE, json={"new_password1": "changed", "new_password2": "changed"}
            )
            assert response.status_code == 200, response.text
            body = {
                "uid": encode_uid(alice.id),
                "token": link,
                "new_password1": "x",
                "new_password2": "x",
            }
            assert (await client.post(CONFIRM, json=body)).status_code == 400

    @pytest.mark.parametrize(
        ("age_hours", "accepted"),
        [(71, True), (73, False), (-1, False)],
    )
    async def test_links_expire(
        self,
        anon_client: httpx.AsyncClient,
        session: AsyncSession,
        age_hours: int,
        accepted: bool,
    ) -> None:
        # password_reset_timeout_hours is 72 by default.
        alice = await make_user(session, "alice", email="alice@example.org")
        before = alice.password
        link = make_link_token(
            SIGNING_KEY, alice, "password-reset", now=time.time() - age_hours * 3600
        )
        body = {
            "uid": encode_uid(alice.id),
            "token": link,
            "new_password1": "x",
            "new_password2": "x",
        }
        response = await anon_client.post(CONFIRM, json=body)
        assert response.status_code == (200 if accepted else 400), response.text
        assert ((await reload(session, alice)).password != before) is accepted

    async def test_the_timeout_is_the_setting(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        app = create_app(settings_for(engine, password_reset_timeout_hours=1))
        alice = await make_user(session, "alice", email="alice@example.org")
        async with app_client(app, session) as client:
            for age_minutes, status in ((61, 400), (59, 200)):
                link = make_link_token(
                    SIGNING_KEY, alice, "password-reset", now=time.time() - age_minutes * 60
                )
                body = {
                    "uid": encode_uid(alice.id),
                    "token": link,
                    "new_password1": "x",
                    "new_password2": "x",
                }
                response = await client.post(CONFIRM, json=body)
                assert response.status_code == status, (age_minutes, response.text)
            await client.post(RESET, json={"email": "alice@example.org"})
        assert "expires in 1 hours" in (await outbox(session))[0].body

    async def test_tampered_links_are_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice", email="alice@example.org")
        bob = await make_user(session, "bob", email="bob@example.org")
        good = make_link_token(SIGNING_KEY, alice, "password-reset")
        stamp, mac = good.split("-")
        future = make_link_token(b"another-key", alice, "password-reset")
        cases = [
            (encode_uid(alice.id), f"{stamp}-{mac[:-1]}{'0' if mac[-1] != '0' else '1'}"),
            (encode_uid(alice.id), f"{stamp}-{mac.upper()}"),
            (encode_uid(alice.id), f"{int(stamp, 36) + 1:x}-{mac}"),
            (encode_uid(alice.id), mac),
            (encode_uid(alice.id), future),
            (encode_uid(alice.id), make_link_token(SIGNING_KEY, alice, "verify-email")),
            (encode_uid(bob.id), good),
            ("not-a-uid", good),
            ("", good),
            (encode_uid(alice.id), "ключ-ключ"),
            (encode_uid(alice.id), "-"),
        ]
        for uid, link in cases:
            body = {"uid": uid, "token": link, "new_password1": "x", "new_password2": "x"}
            response = await anon_client.post(CONFIRM, json=body)
            assert response.status_code == 400, (uid, link, response.text)
        # The untouched link still works: the refusals above were about the tampering.
        body = {
            "uid": encode_uid(alice.id),
            "token": good,
            "new_password1": "x",
            "new_password2": "x",
        }
        assert (await anon_client.post(CONFIRM, json=body)).status_code == 200

    async def test_mismatched_passwords_change_nothing(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice", email="alice@example.org")
        key = await issue_token(session, alice)
        link = make_link_token(SIGNING_KEY, alice, "password-reset")
        body = {
            "uid": encode_uid(alice.id),
            "token": link,
            "new_password1": "a",
            "new_password2": "b",
        }
        response = await anon_client.post(CONFIRM, json=body)
        assert response.status_code == 400, response.text
        assert await works(anon_client, key)
        assert (await reload(session, alice)).password == ""


class TestRegistration:
    BODY = {
        "username": "newbie",
        "email": "newbie@example.org",
        "password1": "n3wbie-pass",
        "password2": "n3wbie-pass",
        "first_name": "New",
        "last_name": "Bie",
    }

    async def test_closed_by_default(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        assert_forbidden(await anon_client.post(REGISTER, json=self.BODY))
        assert await session.scalar(select(User).where(User.username == "newbie")) is None
        assert await outbox(session) == []
        settings = await anon_client.get(f"{V1}/rest-auth/registration/settings/")
        assert settings.json() == {"registration_open": False}

    async def test_open_registration_needs_the_mailed_key(
        self, open_app: FastAPI, session: AsyncSession
    ) -> None:
        async with app_client(open_app, session) as client:
            settings = await client.get(f"{V1}/rest-auth/registration/settings")
            assert settings.json() == {"registration_open": True}
            body = self.BODY | {"is_active": True, "is_superuser": True}
            response = await client.post(REGISTER, json=body)
            assert response.status_code == 201, response.text
            user = await session.scalar(select(User).where(User.username == "newbie"))
            assert user is not None
            assert not user.is_active
            assert not user.is_superuser
            assert user.password.startswith("$argon2id$")
            response = await login(client, username="newbie", password="n3wbie-pass")
            assert response.status_code == 400, response.text
            (mail,) = await outbox(session)
            assert mail.recipients == ["newbie@example.org"]
            found = re.search(r'"key": "([^"]+)"', mail.body)
            assert found, mail.body
            assert (
                await client.post(VERIFY, json={"key": found.group(1) + "x"})
            ).status_code == 400
            response = await client.post(VERIFY, json={"key": found.group(1)})
            assert response.status_code == 200, response.text
            assert (await reload(session, user)).is_active
            assert await works(client, await key_of(client, "newbie", "n3wbie-pass"))
            # The key is spent.
            assert (await client.post(VERIFY, json={"key": found.group(1)})).status_code == 400

    async def test_the_mailed_link_activates_too(
        self, open_app: FastAPI, session: AsyncSession
    ) -> None:
        async with app_client(open_app, session) as client:
            response = await client.post(REGISTER, json=self.BODY)
            assert response.status_code == 201, response.text
            (mail,) = await outbox(session)
            found = re.search(
                r"(/api/v1/rest-auth/registration/account-confirm-email/\S+)", mail.body
            )
            assert found, mail.body
            response = await client.get(found.group(1))
            assert response.status_code == 200, response.text
        user = await session.scalar(select(User).where(User.username == "newbie"))
        assert user is not None
        assert user.is_active

    async def test_the_mail_does_not_follow_the_host_header(
        self, open_app: FastAPI, session: AsyncSession
    ) -> None:
        async with app_client(open_app, session) as client:
            response = await client.post(REGISTER, json=self.BODY, headers={"Host": "evil.example"})
            assert response.status_code == 201, response.text
        (mail,) = await outbox(session)
        assert "evil.example" not in mail.body

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"username": "taken"}, "username"),
            ({"email": "Taken@Example.org"}, "email"),
            ({"password2": "other"}, "password2"),
            ({"username": "bad name"}, "username"),
            ({"email": "not-an-address"}, "email"),
        ],
    )
    async def test_bad_registrations_are_a_400(
        self,
        open_app: FastAPI,
        session: AsyncSession,
        change: dict[str, str],
        field: str,
    ) -> None:
        await make_user(session, "taken", email="taken@example.org")
        async with app_client(open_app, session) as client:
            response = await client.post(REGISTER, json=self.BODY | change)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["loc"] == ["body", field]
        assert await session.scalar(select(User).where(User.first_name == "New")) is None

    async def test_a_garbage_key_is_a_400(self, anon_client: httpx.AsyncClient) -> None:
        for key in ("x", ":", "MQ:", "MQ:0-00", "ключ:ключ", "9" * 200):
            assert (await anon_client.post(VERIFY, json={"key": key})).status_code == 400
            path = f"{V1}/rest-auth/registration/account-confirm-email/{key}/"
            assert (await anon_client.get(path)).status_code == 400


class TestRestAuthUser:
    async def test_get_shows_exactly_the_rest_auth_fields(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        alice = await make_user(
            session, "alice", email="a@example.org", first_name="A", preferences={"x": 1}
        )
        async with client_as(app, session, alice) as client:
            response = await client.get(ME)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "pk": alice.id,
            "username": "alice",
            "email": "a@example.org",
            "first_name": "A",
            "last_name": "",
            "preferences": {"x": 1},
        }

    async def test_put_changes_names_but_never_the_email(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice", email="a@example.org")
        async with client_as(app, session, alice) as client:
            response = await client.put(
                ME,
                json={
                    "username": "alice2",
                    "first_name": "Al",
                    "email": "mallory@example.org",
                    "is_superuser": True,
                    "is_active": False,
                    "password": "x",
                    "pk": 999,
                },
            )
            assert response.status_code == 200, response.text
            assert response.json()["username"] == "alice2"
            assert response.json()["email"] == "a@example.org"
            assert (await client.get(PROBE)).status_code == 200
        alice = await reload(session, alice)
        assert (alice.username, alice.first_name, alice.email) == ("alice2", "Al", "a@example.org")
        assert (alice.is_superuser, alice.is_active, alice.password) == (False, True, "")

    async def test_patch_changes_one_field(self, app: FastAPI, session: AsyncSession) -> None:
        alice = await make_user(session, "alice", first_name="A")
        async with client_as(app, session, alice) as client:
            response = await client.patch(ME, json={"last_name": "Liddell"})
        assert response.status_code == 200, response.text
        assert (response.json()["username"], response.json()["last_name"]) == ("alice", "Liddell")

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_a_taken_username_is_a_400(
        self, app: FastAPI, session: AsyncSession, method: str
    ) -> None:
        alice = await make_user(session, "alice")
        await make_user(session, "bob")
        async with client_as(app, session, alice) as client:
            response = await client.request(method, ME, json={"username": "bob"})
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["loc"] == ["body", "username"]
            response = await client.request(method, ME, json={"username": "bad name!"})
            assert response.status_code == 400, response.text
            # Keeping one's own name is no clash.
            response = await client.request(method, ME, json={"username": "alice"})
            assert response.status_code == 200, response.text
        assert (await reload(session, alice)).username == "alice"

    async def test_put_needs_the_username(self, app: FastAPI, session: AsyncSession) -> None:
        alice = await make_user(session, "alice")
        async with client_as(app, session, alice) as client:
            response = await client.put(ME, json={"first_name": "A"})
        assert response.status_code == 400, response.text


class TestNulCharacters:
    # PostgreSQL refuses NUL in text and JSONB: unguarded, each of these was a 500 there.
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("PATCH", "/api/v1/preferences/", {"preferences": {"a": "\x00"}}),
            (
                "PUT",
                "/api/v1/preferences/",
                {
                    "preferences": {"a\x00": 1},
                    "permissions": [],
                    "groups": [],
                    "is_superuser": False,
                },
            ),
            ("PATCH", ME, {"preferences": {"a": ["\x00"]}}),
            ("PATCH", ME, {"first_name": "x\x00"}),
            ("PUT", ME, {"username": "alice", "last_name": "\x00"}),
            ("POST", CHANGE, {"new_password1": "a\x00", "new_password2": "a\x00"}),
            ("POST", RESET, {"email": "alice@example.org\x00"}),
            ("POST", LOGIN, {"username": "alice\x00", "password": "x"}),
            ("POST", VERIFY, {"key": "MQ:\x00"}),
        ],
    )
    async def test_a_nul_in_a_body_is_a_400(
        self, app: FastAPI, session: AsyncSession, method: str, path: str, body: dict[str, object]
    ) -> None:
        alice = await make_user(session, "alice", email="alice@example.org")
        async with client_as(app, session, alice) as client:
            response = await client.request(method, path, json=body)
            assert response.status_code == 400, response.text
            assert response.json()["detail"] == "a NUL character is not allowed"
            # The session is still usable (no aborted transaction on PostgreSQL).
            assert (await client.get(ME)).json()["preferences"] == {}
        assert await outbox(session) == []
