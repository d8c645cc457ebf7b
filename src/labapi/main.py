"""The application: `create_app(settings)` wires settings, database, routes and errors."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware.trustedhost import TrustedHostMiddleware

import labapi
from labapi.api import observability, ops
from labapi.api.factory import ResourceSpec, body_schemas, build_routers
from labapi.api.handlers import (
    QueryCountMiddleware,
    RequestIdMiddleware,
    install_error_handlers,
)
from labapi.api.limits import BodyLimitMiddleware, QueryLimitMiddleware
from labapi.api.openapi import complete_responses, problem_schemas
from labapi.api.responses import ORJSONResponse
from labapi.auth import endpoints as auth_endpoints
from labapi.auth.specs import USERS
from labapi.auth.throttle import LoginThrottle
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.settings import Settings, get_settings
from labapi.facility.specs import REGISTRY as FACILITY_REGISTRY
from labapi.isabl import endpoints as isabl_endpoints
from labapi.isabl import files, submissions
from labapi.isabl.specs import REGISTRY as ISABL_REGISTRY

REGISTRY: tuple[ResourceSpec, ...] = (*ISABL_REGISTRY, USERS, *FACILITY_REGISTRY)


class State(TypedDict):
    """What the lifespan hands every request (`request.state`)."""

    sessionmaker: async_sessionmaker[AsyncSession]


DESCRIPTION = """\
labapi serves two lab-metadata APIs on one engine:

- **Isabl API v1** under `/api/v1/` (limit/offset pages: `count`, `next`, `previous`, `results`);
- **facility API** under `/api/` (pg/pg_size pages: `data`, `meta`, `warnings`).

Every list takes Django-style lookups as query parameters (`name__icontains=x`, `id__in!=1,2`,
`[name,notes]__icontains=x`, `created__year=2016`, `tags__name=x`); errors are RFC 9457
problem details.
"""


def create_app(
    settings: Settings | None = None, registry: tuple[ResourceSpec, ...] = REGISTRY
) -> FastAPI:
    """Build the ASGI application for `settings` (read from the environment when None).

    `registry` lists the resources to serve; tests may add their own.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        engine = create_engine(settings)
        app.state.engine = engine  # for the pool metrics
        try:
            yield {"sessionmaker": create_sessionmaker(engine)}
        finally:
            await engine.dispose()

    app = FastAPI(
        title="labapi",
        version=labapi.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        default_response_class=ORJSONResponse,
    )
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    app.state.registry = registry
    # Hand-written routes first: `analyses/stream/<id>`, `submissions/download`,
    # `individuals/tree` … must win over `<resource>/<id>`, which would take them otherwise.
    for router in (
        *auth_endpoints.ROUTERS,
        isabl_endpoints.router,
        *files.ROUTERS,
        *submissions.ROUTERS,
        *build_routers(registry),
    ):
        app.include_router(router)
    app.include_router(ops.router)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        QueryLimitMiddleware,
        max_bytes=settings.max_query_string_bytes,
        max_params=settings.max_query_params,
    )
    if settings.allowed_hosts != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    observability.install(app, metrics_public=settings.metrics_public)
    app.add_middleware(RequestIdMiddleware)
    if settings.debug_query_count:
        app.add_middleware(QueryCountMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            bodies = (
                *body_schemas(registry),
                *auth_endpoints.AUTH_BODIES,
                *isabl_endpoints.BODIES,
            )
            models = [(model, "validation") for model in bodies]
            _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem_schemas())
            for name, definition in definitions.get("$defs", {}).items():
                components.setdefault(name, definition)
            complete_responses(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
