"""Probes, body limits, trusted hosts and login throttling."""

import pytest

from labapi.main import create_app
from tests.conftest import app_client, make_user, settings_for


class TestProbes:
    async def test_healthz_is_open(self, anon_client):
        response = await anon_client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_reports_the_revision(self, anon_client):
        from labapi.api.ops import head_revision

        response = await anon_client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ready", "revision": head_revision()}

    async def test_readyz_is_503_behind_the_migrations(self, anon_client, session):
        from sqlalchemy import text

        await session.execute(text("UPDATE alembic_version SET version_num = 'old'"))
        response = await anon_client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "30"
        assert "run the migrations" in response.json()["detail"]


class TestBodyLimit:
    @pytest.fixture
    async def small(self, engine, session, superuser):
        from tests.conftest import client_as

        app = create_app(settings_for(engine, max_body_bytes=1000))
        async with client_as(app, session, superuser) as client:
            yield client

    async def test_declared_length_over_the_limit_is_a_413(self, small):
        response = await small.post("/api/v1/tags", content=b"x" * 2000)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    async def test_streamed_body_over_the_limit_is_a_413(self, small):
        async def chunks():
            for _ in range(5):
                yield b"y" * 400

        response = await small.post("/api/v1/tags", content=chunks())
        assert response.status_code == 413
        assert response.json()["code"] == "LAB204"

    async def test_under_the_limit_passes(self, small):
        response = await small.post("/api/v1/tags", json={"name": "fits"})
        assert response.status_code == 201


class TestTrustedHosts:
    async def test_a_forged_host_is_refused(self, engine, session):
        app = create_app(settings_for(engine, allowed_hosts=["labapi.example.org"]))
        async with app_client(app, session) as client:
            response = await client.get("/healthz", headers={"Host": "evil.example.com"})
            assert response.status_code == 400
            good = await client.get("/healthz", headers={"Host": "labapi.example.org"})
            assert good.status_code == 200


class TestLoginThrottle:
    async def test_failures_per_username_then_429(self, engine, session):
        app = create_app(settings_for(engine, login_failures_per_username=3))
        await make_user(session, "victim", password="right")
        async with app_client(app, session) as client:
            for _ in range(3):
                bad = {"username": "victim", "password": "wrong"}
                response = await client.post("/api/v1/rest-auth/login/", json=bad)
                assert response.status_code == 400
            good = {"username": "victim", "password": "right"}
            response = await client.post("/api/v1/rest-auth/login/", json=good)
            assert response.status_code == 429
            assert int(response.headers["retry-after"]) > 0
            other = await client.post(
                "/api/v1/rest-auth/login/", json={"username": "someone", "password": "x"}
            )
            assert other.status_code == 400

    async def test_failures_per_address_cover_every_username(self, engine, session):
        app = create_app(settings_for(engine, login_failures_per_address=2))
        async with app_client(app, session) as client:
            for name in ("a", "b"):
                response = await client.post(
                    "/api/auth/token", json={"username": name, "password": "x"}
                )
                assert response.status_code == 400
            response = await client.post("/api/auth/token", json={"username": "c", "password": "x"})
            assert response.status_code == 429

    async def test_basic_failures_count_too(self, engine, session):
        app = create_app(settings_for(engine, login_failures_per_username=2))
        async with app_client(app, session) as client:
            for _ in range(2):
                response = await client.get("/api/v1/auth/", auth=("ghost", "nope"))
                assert response.status_code == 401
            response = await client.get("/api/v1/auth/", auth=("ghost", "nope"))
            assert response.status_code == 429


def test_the_window_forgets():
    from labapi.auth.throttle import LoginThrottle

    throttle = LoginThrottle(per_username=1, per_address=100, window=60)
    throttle.failed("Ann", "1.2.3.4", now=0)
    assert throttle.retry_after("ann", "1.2.3.4", now=10) == 51
    assert throttle.retry_after("ann", "1.2.3.4", now=61) is None
    throttle.failed("ann", "1.2.3.4", now=70)
    throttle.succeeded("ANN")
    assert throttle.retry_after("ann", "1.2.3.4", now=71) is None
