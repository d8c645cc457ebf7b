"""Operability: `/healthz` (the process answers) and `/readyz` (the database answers and
its schema is at the newest migration). Both are open, for load balancers and probes."""

from functools import cache

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from labapi.api.factory import add_route
from labapi.api.responses import ORJSONResponse
from labapi.core.db import SessionDep
from labapi.core.errors import ServiceUnavailable
from labapi.core.faults import service_unavailable
from labapi.core.migrate import alembic_config

router = APIRouter(tags=["operations"])


@cache
def head_revision() -> str | None:
    """The newest migration of this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def healthz() -> Response:
    """200 while the process serves requests."""
    return ORJSONResponse({"status": "ok"})


async def readyz(session: SessionDep) -> Response:
    """200 when the database answers and is migrated to head; 503 otherwise."""
    try:
        current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except (SQLAlchemyError, OSError) as exc:
        unavailable = service_unavailable(exc)
        if unavailable is None:  # e.g. no alembic_version table: not migrated
            unavailable = ServiceUnavailable(
                f"the database is not ready: {type(getattr(exc, 'orig', exc)).__name__}",
                headers={"Retry-After": "5"},
            )
        raise unavailable from None
    head = head_revision()
    if current != head:
        raise ServiceUnavailable(
            f"the database is at revision {current}, this code needs {head}: run the migrations",
            headers={"Retry-After": "30"},
        )
    return ORJSONResponse({"status": "ready", "revision": current})


add_route(router, "/healthz", healthz, ["GET"], operation_id="healthz", summary="Alive")
add_route(router, "/readyz", readyz, ["GET"], operation_id="readyz", summary="Ready to serve")
