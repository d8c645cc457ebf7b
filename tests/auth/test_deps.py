"""Authentication: who gets in with what credentials (auth/deps.py, auth/tokens.py)."""

import base64
import datetime as dt
import hashlib

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth import deps, tokens
from labapi.auth.models import Token, User
from labapi.auth.passwords import hash_password
from labapi.auth.tokens import issue_token
from labapi.core.models import Base
from tests.auth.conftest import (
    PASSWORD,
    assert_unauthorized,
    basic,
    token,
    user_with_password,
)
from tests.conftest import app_client, make_user

PROBE = "/api/v1/auth/"  # 200 for any authenticated user
DATA = "/api/v1/centers"  # a generated resource route


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class TestNoCredentials:
    @pytest.mark.parametrize("path", [PROBE, DATA, "/api/v1/rest-auth/user/"])
    async def test_is_a_401_with_a_challenge(
        self, anon_client: httpx.AsyncClient, path: str
    ) -> None:
        body = assert_unauthorized(await anon_client.get(path))
        assert body["title"] == "Not authenticated"
        assert "not provided" in body["detail"]

    async def test_a_malformed_body_does_not_come_before_the_401(
        self, anon_client: httpx.AsyncClient
    ) -> None:
        response = await anon_client.post(
            DATA, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert_unauthorized(response)

    async def test_a_malformed_update_body_does_not_come_before_the_401(
        self, anon_client: httpx.AsyncClient
    ) -> None:
        for method in ("PUT", "PATCH"):
            response = await anon_client.request(
                method,
                f"{DATA}/1",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            )
            assert_unauthorized(response)


class TestTokenAuthentication:
    async def test_token_works(self, anon_client: httpx.AsyncClient, session: AsyncSession) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        response = await anon_client.get(PROBE, headers=token(key))
        assert response.status_code == 200, response.text
        assert response.json()["username"] == "alice"

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "token", "TOKEN"])
    async def test_bearer_and_any_case_work_like_token(
        self, anon_client: httpx.AsyncClient, session: AsyncSession, scheme: str
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        response = await anon_client.get(DATA, headers={"Authorization": f"{scheme} {key}"})
        assert response.status_code == 200, response.text

    async def test_last_used_is_recorded(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        assert (await anon_client.get(PROBE, headers=token(key))).status_code == 200
        stored = await session.scalar(select(Token).where(Token.user_id == user.id))
        assert stored is not None
        assert stored.last_used is not None

    @pytest.mark.parametrize(
        "header",
        [
            pytest.param(b"", id="empty"),
            pytest.param(b"Token", id="token-without-key"),
            pytest.param(b"Token    ", id="token-blank-key"),
            pytest.param(b"Bearer", id="bearer-without-key"),
            pytest.param(b"Token " + b"0" * 40, id="unknown-key"),
            pytest.param(b"Token " + b"a" * 10_000, id="10kb-key"),
            pytest.param("Token ключ".encode(), id="non-ascii-utf8"),
            pytest.param(b"Token \xff\xfe\xfd", id="non-utf8"),
            pytest.param(b"Token abc def", id="two-keys"),
            pytest.param(b"Token ' OR 1=1 --", id="sql"),
            pytest.param(b"Token %00", id="percent-nul"),
            pytest.param(b"Digest username=alice", id="unknown-scheme"),
            pytest.param(b"Negotiate", id="bare-unknown-scheme"),
            pytest.param(b"Basic", id="basic-without-credentials"),
            pytest.param(b"Basic !!!not-base64!!!", id="basic-bad-base64"),
            pytest.param(b"Basic YWxpY2U", id="basic-bad-padding"),
            pytest.param(b"Basic " + _b64(b"alice").encode(), id="basic-no-colon"),
            pytest.param(b"Basic " + _b64(b":secret").encode(), id="basic-no-username"),
            pytest.param(b"Basic " + _b64(b"alice:\xff\xfe").encode(), id="basic-non-utf8"),
            pytest.param("Basic ключ".encode(), id="basic-non-ascii"),
            pytest.param(b"Basic " + _b64(b"al\x00ice:secret").encode(), id="basic-nul-username"),
            pytest.param(b"Basic " + _b64(b"a@b\x00:secret").encode(), id="basic-nul-email"),
            pytest.param(b"Basic " + _b64(b"alice:" + b"p" * 5000).encode(), id="basic-5kb-pw"),
            pytest.param(b"Basic " + b"A" * 10_000, id="basic-10kb"),
        ],
    )
    async def test_garbled_credentials_are_a_401(
        self, anon_client: httpx.AsyncClient, session: AsyncSession, header: bytes
    ) -> None:
        # A valid key exists, so a lookup that ignored its input would let the request in.
        user = await make_user(session, "alice")
        await issue_token(session, user)
        for path in (PROBE, DATA):
            assert_unauthorized(await anon_client.get(path, headers={"Authorization": header}))

    async def test_a_key_differing_in_case_is_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        assert key != key.upper()
        assert_unauthorized(await anon_client.get(PROBE, headers=token(key.upper())))

    async def test_the_hash_itself_is_not_a_key(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        digest = hashlib.sha256(key.encode()).hexdigest()
        assert_unauthorized(await anon_client.get(PROBE, headers=token(digest)))

    async def test_inactive_user_is_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice", is_active=False)
        key = await issue_token(session, user)
        assert_unauthorized(await anon_client.get(PROBE, headers=token(key)))
        assert_unauthorized(await anon_client.get(DATA, headers=token(key)))

    async def test_a_user_deactivated_after_login_is_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        assert (await anon_client.get(PROBE, headers=token(key))).status_code == 200
        user.is_active = False
        await session.flush()
        assert_unauthorized(await anon_client.get(PROBE, headers=token(key)))

    async def test_a_key_of_a_deleted_user_is_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        await session.delete(user)
        await session.flush()
        assert_unauthorized(await anon_client.get(PROBE, headers=token(key)))

    async def test_a_key_deleted_by_logout_is_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        response = await anon_client.post("/api/v1/rest-auth/logout/", headers=token(key))
        assert response.status_code == 200, response.text
        assert_unauthorized(await anon_client.get(PROBE, headers=token(key)))
        assert_unauthorized(await anon_client.get(DATA, headers=token(key)))


class TestTokenExpiry:
    async def _aged_key(self, session: AsyncSession, age: dt.timedelta) -> str:
        user = await make_user(session, "alice")
        key = await issue_token(session, user)
        await session.execute(
            update(Token)
            .where(Token.user_id == user.id)
            .values(created=dt.datetime.now(dt.UTC) - age)
        )
        return key

    async def test_an_expired_key_is_refused(self, ttl_app: FastAPI, session: AsyncSession) -> None:
        key = await self._aged_key(session, dt.timedelta(days=1, minutes=1))
        async with app_client(ttl_app, session) as client:
            body = assert_unauthorized(await client.get(PROBE, headers=token(key)))
            assert_unauthorized(await client.get(DATA, headers=token(key)))
        assert "expired" in body["detail"]

    async def test_a_key_within_its_lifetime_works(
        self, ttl_app: FastAPI, session: AsyncSession
    ) -> None:
        key = await self._aged_key(session, dt.timedelta(hours=23))
        async with app_client(ttl_app, session) as client:
            assert (await client.get(PROBE, headers=token(key))).status_code == 200

    async def test_without_a_lifetime_old_keys_work(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        key = await self._aged_key(session, dt.timedelta(days=3650))
        assert (await anon_client.get(PROBE, headers=token(key))).status_code == 200


class TestBasicAuthentication:
    async def test_basic_works(self, anon_client: httpx.AsyncClient, session: AsyncSession) -> None:
        await user_with_password(session, "alice")
        response = await anon_client.get(DATA, headers=basic("alice", PASSWORD))
        assert response.status_code == 200, response.text

    async def test_a_colon_in_the_password_works(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        secret = "pa:ss:wo:rd"
        await user_with_password(session, "alice", stored=hash_password(secret))
        response = await anon_client.get(PROBE, headers=basic("alice", secret))
        assert response.status_code == 200, response.text
        assert_unauthorized(await anon_client.get(PROBE, headers=basic("alice", "pa")))

    async def test_wrong_password_is_a_401(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice")
        body = assert_unauthorized(
            await anon_client.get(DATA, headers=basic("alice", PASSWORD + "x"))
        )
        unknown = assert_unauthorized(
            await anon_client.get(DATA, headers=basic("nobody", PASSWORD))
        )
        # The answer does not tell which usernames exist.
        assert body["detail"] == unknown["detail"]

    async def test_user_without_a_password_cannot_use_basic(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_user(session, "alice")  # password "" (unusable)
        assert_unauthorized(await anon_client.get(PROBE, headers=basic("alice", "")))
        assert_unauthorized(await anon_client.get(PROBE, headers=basic("alice", "x")))

    async def test_inactive_user_is_refused(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "alice", is_active=False)
        assert_unauthorized(await anon_client.get(PROBE, headers=basic("alice", PASSWORD)))


class TestTokenStorage:
    async def test_the_key_is_stored_only_as_its_sha256(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        user = await user_with_password(session, "alice")
        response = await anon_client.post(
            "/api/v1/rest-auth/login/", json={"username": "alice", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        key = response.json()["key"]
        assert len(key) >= 32
        stored = (await session.scalars(select(Token).where(Token.user_id == user.id))).all()
        assert [row.key_hash for row in stored] == [hashlib.sha256(key.encode()).hexdigest()]
        # Nowhere in any table, in any form that contains it.
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            for row in rows:
                assert key not in repr(tuple(row)), f"API key found in table {table.name}"
        columns = (await session.execute(text("SELECT * FROM auth_token"))).all()
        assert all(key not in repr(tuple(row)) for row in columns)

    async def test_issued_keys_are_unique(self, session: AsyncSession) -> None:
        user = await make_user(session, "alice")
        keys = {await issue_token(session, user) for _ in range(20)}
        assert len(keys) == 20
        assert all(len(key) == 40 for key in keys)

    async def test_users_own_their_keys(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        alice = await make_user(session, "alice")
        bob = await make_user(session, "bob")
        alice_key, bob_key = await issue_token(session, alice), await issue_token(session, bob)
        assert (await anon_client.get(PROBE, headers=token(alice_key))).json()[
            "username"
        ] == "alice"
        assert (await anon_client.get(PROBE, headers=token(bob_key))).json()["username"] == "bob"
        assert await session.scalar(select(User.id).where(User.username == "bob")) == bob.id


class TestTimingEqualisation:
    @pytest.mark.parametrize("login", ["alice", "nobody", "nopassword", "inactive", "x@y.org"])
    async def test_every_login_costs_one_hash_verification(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch, login: str
    ) -> None:
        # An unknown or unusable login verifies against a dummy hash, so the answer takes
        # as long as for a real user and timing does not tell which usernames exist.
        await user_with_password(session, "alice")
        await user_with_password(session, "inactive", is_active=False)
        await make_user(session, "nopassword")
        calls: list[str] = []

        async def spy(password: str, stored: str) -> tuple[bool, str | None]:
            calls.append(stored)
            return False, None

        monkeypatch.setattr(deps, "verify_password_async", spy)
        assert await deps.check_password(session, login, "guess") is None
        assert len(calls) == 1
        assert calls[0].startswith("$argon2id$")

    def test_link_tokens_are_compared_in_constant_time(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        user = User(id=1, password="", email="a@b.org", is_active=True)
        link = tokens.make_link_token(b"key", user, "password-reset")
        compared: list[bytes] = []
        original = tokens.hmac.compare_digest

        def spy(a: bytes, b: bytes) -> bool:
            compared.append(b)
            return original(a, b)

        monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
        max_age = dt.timedelta(hours=1)
        assert tokens.check_link_token(b"key", user, "password-reset", link, max_age)
        assert not tokens.check_link_token(b"key", user, "password-reset", link[:-1], max_age)
        assert compared == [link.encode(), link[:-1].encode()]
