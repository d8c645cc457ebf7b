"""Passwords: Argon2 by default; Django's pbkdf2_sha256 hashes accepted and upgraded at
the next login; no password or hash ever leaves the server (auth/passwords.py)."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import User
from labapi.auth.passwords import hash_password, verify_password
from tests.auth.conftest import (
    PASSWORD,
    assert_unauthorized,
    basic,
    django_pbkdf2_sha256,
    password_hash,
    token,
    user_with_password,
)
from tests.conftest import client_as

LOGIN = "/api/v1/rest-auth/login/"


async def stored_password(session: AsyncSession, username: str) -> str:
    await session.flush()
    value = await session.scalar(
        select(User.password)
        .where(User.username == username)
        .execution_options(populate_existing=True)
    )
    assert value is not None
    return value


class TestHashing:
    def test_new_hashes_are_argon2id(self) -> None:
        stored = password_hash()
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        assert verify_password(PASSWORD, stored) == (True, None)
        assert verify_password(PASSWORD + " ", stored) == (False, None)

    def test_the_django_reference_hash_verifies(self) -> None:
        # Django's own test vector (django/tests/auth_tests/test_hashers.py, 4.2).
        stored = "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="
        assert django_pbkdf2_sha256("lètmein", "seasalt", 260000) == stored
        ok, new_hash = verify_password("lètmein", stored)
        assert ok
        assert new_hash is not None
        assert new_hash.startswith("$argon2id$")
        assert verify_password("letmein", stored) == (False, None)

    @pytest.mark.parametrize("iterations", [36000, 150000, 870000])
    def test_every_django_iteration_count_verifies(self, iterations: int) -> None:
        stored = django_pbkdf2_sha256("s3cret", iterations=iterations)
        assert verify_password("s3cret", stored)[0]

    @pytest.mark.parametrize(
        "stored",
        [
            "",
            "!",
            "!unusable7VqOZzTOwkJ5AfiWxbKzg1kUUe8U3tyi9JkKx",  # Django's unusable password
            "pbkdf2_sha256$x$salt$hash",
            "pbkdf2_sha256$260000$salt",
            "pbkdf2_sha256$260000$salt$not base64!",
            "md5$salt$0123456789abcdef",
            "sha1$salt$0123456789abcdef0123456789abcdef01234567",
            "$argon2id$v=19$m=65536,t=3,p=4$garbage",
            "plaintext-password",
            PASSWORD,
        ],
    )
    def test_unusable_or_foreign_hashes_never_verify(self, stored: str) -> None:
        assert verify_password(PASSWORD, stored) == (False, None)
        assert verify_password(stored, stored) == (False, None)

    def test_an_oversized_password_is_refused_not_raised(self) -> None:
        assert verify_password("p" * 100_000, password_hash()) == (False, None)


class TestDjangoHashUpgrade:
    async def test_login_upgrades_the_hash_to_argon2(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "imported", stored=django_pbkdf2_sha256("s3cret:pw"))
        response = await anon_client.post(
            LOGIN, json={"username": "imported", "password": "s3cret:pw"}
        )
        assert response.status_code == 200, response.text
        upgraded = await stored_password(session, "imported")
        assert upgraded.startswith("$argon2id$")
        assert verify_password("s3cret:pw", upgraded) == (True, None)
        # The upgraded hash logs in again, and the key works.
        response = await anon_client.post(
            LOGIN, data={"username": "imported", "password": "s3cret:pw"}
        )
        assert response.status_code == 200, response.text
        assert (
            await anon_client.get("/api/v1/auth/", headers=token(response.json()["key"]))
        ).status_code == 200

    async def test_basic_upgrades_the_hash_to_argon2(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await user_with_password(session, "imported", stored=django_pbkdf2_sha256("s3cret"))
        response = await anon_client.get("/api/v1/centers", headers=basic("imported", "s3cret"))
        assert response.status_code == 200, response.text
        assert (await stored_password(session, "imported")).startswith("$argon2id$")

    async def test_a_wrong_password_fails_and_keeps_the_hash(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        original = django_pbkdf2_sha256("s3cret")
        await user_with_password(session, "imported", stored=original)
        response = await anon_client.post(
            LOGIN, json={"username": "imported", "password": "S3cret"}
        )
        assert response.status_code == 400, response.text
        assert_unauthorized(
            await anon_client.get("/api/v1/auth/", headers=basic("imported", "s3cret "))
        )
        assert await stored_password(session, "imported") == original

    async def test_an_inactive_imported_user_is_refused_and_not_upgraded(
        self, anon_client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        original = django_pbkdf2_sha256("s3cret")
        await user_with_password(session, "imported", stored=original, is_active=False)
        response = await anon_client.post(
            LOGIN, json={"username": "imported", "password": "s3cret"}
        )
        assert response.status_code == 400, response.text
        assert await stored_password(session, "imported") == original


class TestPasswordsNeverLeave:
    async def test_no_response_carries_a_password_or_its_hash(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        user = await user_with_password(session, "alice", email="alice@example.org")
        other = await user_with_password(
            session, "bob", stored=hash_password("bobs-password"), superuser=True
        )
        secrets = [PASSWORD, "bobs-password", user.password, other.password, "$argon2"]
        async with client_as(app, session, other) as client:
            responses = [
                await client.get("/api/v1/users"),
                await client.get("/api/v1/users?fields=password,username"),
                await client.get(f"/api/v1/users/{user.id}"),
                await client.get("/api/v1/users/alice"),
                await client.get("/api/v1/users/alice@example.org"),
                await client.post("/api/v1/users", json={"username": "alice"}),
                await client.patch(f"/api/v1/users/{user.id}", json={"first_name": "A"}),
                await client.get("/api/v1/rest-auth/user/"),
                await client.patch("/api/v1/rest-auth/user/", json={"last_name": "B"}),
                await client.get("/api/v1/preferences/"),
                await client.patch("/api/v1/preferences/", json={"preferences": {"a": 1}}),
                await client.get("/api/v1/auth/"),
                await client.post(LOGIN, json={"username": "bob", "password": "bobs-password"}),
                await client.get("/openapi.json"),
            ]
        for response in responses:
            assert response.status_code in (200, 201), (response.request.url, response.text)
            for secret in secrets:
                assert secret not in response.text, (response.request.url, secret)
            if response.request.url.path != "/openapi.json":
                assert '"password"' not in response.text, response.request.url
        schema = responses[-1].json()["components"]["schemas"]
        for name in ("UserRead", "RestAuthUser"):
            assert "password" not in schema[name]["properties"]
