"""JSON logs carrying the request id, Prometheus metrics, graceful shutdown settings."""

import io
import logging

import httpx
import orjson
import pytest

from labapi.api.observability import JsonFormatter
from labapi.main import create_app
from tests.conftest import app_client, settings_for
from tests.core.test_faults import live_client, probe_app


@pytest.fixture
def json_log() -> io.StringIO:
    """Everything logged during the test, as the JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


class TestJsonLogs:
    async def test_every_line_of_a_request_carries_its_id(
        self, client: httpx.AsyncClient, json_log: io.StringIO
    ) -> None:
        response = await client.get("/api/v1/tags", headers={"X-Request-ID": "trace-me-1"})
        assert response.headers["x-request-id"] == "trace-me-1"
        outside = logging.getLogger("labapi.test")
        outside.info("not in a request")
        lines = [orjson.loads(line) for line in json_log.getvalue().splitlines()]
        # The server's lines (httpx logs the exchange on the client's side, after it).
        during = [line for line in lines if line["logger"] not in ("httpx", "labapi.test")]
        assert during, lines
        assert {line.get("request_id") for line in during} == {"trace-me-1"}, during
        access = [line for line in during if line["logger"] == "labapi.access"]
        assert access[-1]["route"] == "/api/v1/tags"
        assert access[-1]["status"] == 200
        assert access[-1]["duration_ms"] >= 0
        assert "request_id" not in lines[-1]

    async def test_a_500_line_names_the_request(
        self, client: httpx.AsyncClient, isabl_app, json_log: io.StringIO
    ) -> None:
        async def boom() -> None:
            raise RuntimeError("kaput")

        isabl_app.add_api_route("/_boom", boom)
        try:
            response = await client.get("/_boom")
        finally:
            isabl_app.router.routes.pop()
        assert response.status_code == 500
        rid = response.json()["request_id"]
        errors = [orjson.loads(line) for line in json_log.getvalue().splitlines()]
        error = next(line for line in errors if line["level"] == "error")
        assert error["request_id"] == rid
        assert "kaput" in error["exception"]


class TestMetrics:
    async def test_metrics_need_credentials(self, anon_client: httpx.AsyncClient) -> None:
        assert (await anon_client.get("/metrics")).status_code == 401

    async def test_requests_latency_and_pool_are_counted(self, engine) -> None:
        app = probe_app(settings_for(engine, metrics_public=True))
        async with live_client(app) as (client, _):
            for _ in range(3):
                assert (await client.get("/_probe")).status_code == 200
            assert (await client.get("/api/v1/tags/1")).status_code == 401
            assert (await client.get("/nowhere")).status_code == 404
            response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert 'labapi_http_requests_total{method="GET",route="/_probe",status="200"} 3.0' in text
        assert 'route="/api/v1/tags/{id}",status="401"' in text
        assert 'route="<unmatched>",status="404"' in text
        assert (
            'labapi_http_request_duration_seconds_count{method="GET",route="/_probe"} 3.0' in text
        )
        assert "labapi_db_pool_checked_out 0.0" in text

    async def test_public_metrics_answer_without_credentials(self, engine, session) -> None:
        app = create_app(settings_for(engine, metrics_public=True))
        async with app_client(app, session) as client:
            assert (await client.get("/metrics")).status_code == 200


def test_serve_passes_the_graceful_shutdown_timeout(monkeypatch, tmp_path) -> None:
    import uvicorn

    from labapi import cli

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kw: seen.update(kw))
    monkeypatch.setattr(cli, "ensure_admin", lambda settings: _none())
    settings = cli.Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", shutdown_grace_seconds=7
    )
    assert cli.cmd_serve(cli.parser().parse_args(["serve"]), settings) == 0
    assert seen["timeout_graceful_shutdown"] == 7
    assert seen["access_log"] is False
    logging.getLogger().handlers.clear()  # serve configured the root logger


async def _none() -> None:
    return None
