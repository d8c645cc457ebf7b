"""Schema fuzzing: schemathesis derives requests for every operation of both surfaces from
the app's own `/openapi.json` and sends them in process (ASGI) as a superuser.

Each response must not be a 5xx, must have a documented status code and content type, and
must match its documented schema. A stateful pass follows the links schemathesis infers
between operations (create, then read/update/delete what was created). The app runs on a
database of its own (a fresh SQLite file, a fresh PostgreSQL schema), since the fuzzer's
writes are committed for real; examples are few per operation so both backends together
stay well under two minutes (`LABAPI_HYPOTHESIS_SCALE=N` runs N times more).
"""

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from labapi.auth.models import User
from labapi.auth.tokens import issue_token
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.migrate import upgrade
from labapi.core.settings import Settings
from labapi.main import create_app
from tests.conftest import PG_URL

pytestmark = pytest.mark.slow

SCALE = int(os.environ.get("LABAPI_HYPOTHESIS_SCALE", "1"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations on the caller's own account (log out, change password, preferences) run as a
# second superuser, so they cannot take the first one's key or rights away mid-run.
OWN_ACCOUNT = ("/api/v1/rest-auth/", "/api/v1/preferences", "/api/v1/auth")
SPARE_KEYS = 300

# Per-operation examples: PostgreSQL is the slower backend and gets a smaller pass.
FUZZ_BACKENDS = [
    pytest.param("sqlite", 6, marks=pytest.mark.sqlite, id="sqlite"),
    pytest.param("postgresql", 4, marks=pytest.mark.postgresql, id="postgresql"),
]


@dataclass
class Target:
    """The app under fuzzing and the keys to call it with."""

    app: Any
    key: str
    own_keys: list[str]

    def headers(self, path: str) -> dict[str, str]:
        """Credentials for a call to `path` (a fresh key where the call may revoke it)."""
        key = self.key
        if path.startswith(OWN_ACCOUNT):
            spends = "logout" in path or "password" in path
            key = self.own_keys.pop() if spends and len(self.own_keys) > 1 else self.own_keys[0]
        return {"Authorization": f"Token {key}"}


async def _prepare(settings: Settings) -> tuple[str, list[str]]:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: upgrade(connection=sync_conn))
        async with create_sessionmaker(engine)() as session:
            # Large pks, far from the ids the fuzzer tries on /users/{id}.
            root = User(id=987654, username="fuzz-root", password="", is_superuser=True)
            own = User(id=987655, username="fuzz-own", password="", is_superuser=True)
            session.add_all([root, own])
            await session.flush()
            key = await issue_token(session, root)
            own_keys = [await issue_token(session, own) for _ in range(SPARE_KEYS)]
            await session.commit()
        return key, own_keys
    finally:
        await engine.dispose()


async def _schema_sql(settings: Settings, statement: str) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A migrated database of its own, two superusers with keys, and the app on it."""
    backend = request.node.callspec.params["backend"]
    schema = None
    if backend == "sqlite":
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}")
    else:
        schema = f"labapi_fuzz_{os.getpid()}_{secrets.token_hex(3)}"
        settings = Settings(database_url=PG_URL)
        asyncio.run(_schema_sql(settings, f'CREATE SCHEMA "{schema}"'))
        settings = settings.model_copy(update={"database_schema": schema})
    settings = settings.model_copy(update={"secret_key": "fuzz", "registration_open": True})
    key, own_keys = asyncio.run(_prepare(settings))
    try:
        yield Target(create_app(settings), key, own_keys)
    finally:
        # schemathesis started the app's lifespan in its own thread: stop it (the engine
        # is disposed) before the schema goes.
        asgi.shutdown_lifespans()
        if schema is not None:
            public = settings.model_copy(update={"database_schema": None})
            asyncio.run(_schema_sql(public, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize(("backend", "examples"), FUZZ_BACKENDS)
def test_every_operation_conforms(target: Target, backend: str, examples: int) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @_settings(examples)
        def call(case: Any) -> None:
            case.call_and_validate(headers=target.headers(case.path), checks=CHECKS)

        try:
            call()
        except Exception as exc:  # noqa: PERF203 - one report for every operation
            failures[operation.label] = str(exc)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup
            failures[operation.label] = str(group)
    # Both surfaces and the operations routes are in the document.
    assert operations > 90
    assert failures == {}, "\n\n".join(f"{label}\n{msg}" for label, msg in failures.items())


@pytest.mark.parametrize(("backend", "examples"), FUZZ_BACKENDS)
def test_stateful_links_conform(target: Target, backend: str, examples: int) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    machine = schema.as_state_machine()
    headers = target.headers

    class Fuzz(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers(case.path)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Fuzz.run(
        settings=settings(
            _settings(examples),
            stateful_step_count=8,
        )
    )
