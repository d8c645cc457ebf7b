"""Operability: JSON logs carrying the request id, one access line per request, and
Prometheus metrics at `/metrics`.

Logs: one JSON object per line (`LABAPI_LOG_FORMAT=json`, the default; `text` for a
terminal). The request id lives in a contextvar that `RequestIdMiddleware` sets, so every
line logged while a request is served carries it, whichever logger wrote it.

Metrics: requests by method, route template and status, a latency histogram by route, and
the database pool (size, connections in use, overflow). Each app has a registry of its
own. `/metrics` needs credentials like any other route, unless `LABAPI_METRICS_PUBLIC`.
"""

import logging
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labapi.auth.deps import get_current_user

request_id_var: ContextVar[str | None] = ContextVar("labapi_request_id", default=None)
access_log = logging.getLogger("labapi.access")

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


JsonFormatter.converter = time.gmtime


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Send every logger (uvicorn's too) to stderr in `fmt` ("json" or "text")."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class PoolCollector(Collector):
    """The database pool of the app, read at every scrape."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = getattr(getattr(self.app.state, "engine", None), "pool", None)
        for name, doc, method in (
            ("labapi_db_pool_size", "Connections the pool keeps", "size"),
            ("labapi_db_pool_checked_out", "Connections in use by requests", "checkedout"),
            ("labapi_db_pool_overflow", "Connections beyond the pool size", "overflow"),
        ):
            read = getattr(pool, method, None)
            if callable(read):
                yield GaugeMetricFamily(name, doc, value=float(read()))


class Metrics:
    """The app's Prometheus registry and its request metrics."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "labapi_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "labapi_http_request_duration_seconds",
            "Time to the end of the response, by method and route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.registry.register(PoolCollector(app))


class ObservabilityMiddleware:
    """Count, time and log every HTTP request once its response is sent."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # an exception that escapes before a response is a 500 to uvicorn

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )


def metrics_router(public: bool) -> APIRouter:
    """`GET /metrics` in Prometheus' text format (credentials needed unless `public`)."""
    router = APIRouter(tags=["operations"])

    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this process."""
        registry = request.app.state.metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    dependencies = [] if public else [Depends(get_current_user)]
    # Both slash forms, as every route; out of the OpenAPI document (not JSON).
    for path in ("/metrics", "/metrics/"):
        router.add_api_route(
            path, metrics, methods=["GET"], dependencies=dependencies, include_in_schema=False
        )
    return router


def install(app: FastAPI, *, metrics_public: bool) -> None:
    """Add metrics and access logs to `app`."""
    app.state.metrics = Metrics(app)
    app.include_router(metrics_router(metrics_public))
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
