"""Fixtures and helpers of the auth tests: one app per backend (and per setting that the
tests change), users with passwords hashed once per run, and request helpers.

Argon2 costs ~0.1 s per hash or check, so users get a precomputed hash (`PASSWORD`) and
only the tests about logging in pay for a verification.
"""

import base64
import datetime as dt
import functools
import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import OutboxMessage, User
from labapi.auth.passwords import hash_password
from labapi.core.models import Base
from labapi.facility.models import FacilityBase
from labapi.main import create_app
from tests.conftest import make_user, settings_for

PASSWORD = "correct horse battery staple"
PROBLEM_JSON = "application/problem+json"
_counter: Iterator[int] = itertools.count(1)


@functools.cache
def password_hash() -> str:
    """The Argon2 hash of `PASSWORD`, computed once per run."""
    return hash_password(PASSWORD)


def django_pbkdf2_sha256(
    password: str, salt: str = "Zg4jXsT1pQwe", iterations: int = 260000
) -> str:
    """A hash exactly as Django's PBKDF2PasswordHasher writes it."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


async def user_with_password(
    session: AsyncSession, username: str, *, stored: str | None = None, **fields: Any
) -> User:
    """A user whose password is `PASSWORD` (or whose stored hash is `stored`)."""
    user = await make_user(session, username, **fields)
    user.password = stored if stored is not None else password_hash()
    await session.flush()
    return user


def basic(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic `Authorization` header."""
    raw = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {raw}"}


def token(key: str) -> dict[str, str]:
    """A `Token` `Authorization` header."""
    return {"Authorization": f"Token {key}"}


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    """A 401 problem+json with a challenge; its body."""
    assert response.status_code == 401, (
        response.request.method,
        response.request.url,
        response.text,
    )
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "Token" in response.headers["www-authenticate"]
    assert "Basic" in response.headers["www-authenticate"]
    body: dict[str, Any] = response.json()
    assert body["status"] == 401
    assert body["code"] == "LAB300"
    return body


def assert_forbidden(response: httpx.Response) -> dict[str, Any]:
    """A 403 problem+json; its body."""
    assert response.status_code == 403, (
        response.request.method,
        response.request.url,
        response.text,
    )
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == 403
    return body


async def outbox(session: AsyncSession) -> list[OutboxMessage]:
    """Every queued message, oldest first."""
    return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def _model_of_table(table: Any) -> type[Any]:
    for mapper in (*Base.registry.mappers, *FacilityBase.registry.mappers):
        if mapper.local_table is table:
            return mapper.class_  # type: ignore[no-any-return]
    raise LookupError(f"no model for table {table.name}")


async def make_row(session: AsyncSession, model: type[Any], **fixed: Any) -> Any:
    """A row of any model, its required columns filled from their types (foreign keys by
    a new row of the target), so tests over the whole registry need no per-model data;
    `fixed` sets columns (the type of an `input_<type>` record).

    A model whose required columns this cannot fill makes the test fail here: extend it.
    """
    n = next(_counter)
    values: dict[str, Any] = dict(fixed)
    for column in sa_inspect(model).local_table.columns:
        if column.primary_key or column.nullable:
            continue
        if column.default is not None or column.server_default is not None:
            continue
        key = sa_inspect(model).get_property_by_column(column).key
        if key in values:
            continue
        if column.foreign_keys:
            target = next(iter(column.foreign_keys)).column.table
            values[key] = (await make_row(session, _model_of_table(target))).id
            continue
        python_type = column.type.python_type
        enum_class = getattr(column.type, "enum_class", None)
        if enum_class is not None:
            values[key] = next(iter(enum_class))
        elif python_type is str:
            length = getattr(column.type, "length", None) or 30
            values[key] = f"r{n}"[:length]
        elif python_type is bool:
            values[key] = False
        elif python_type in (int, float):
            values[key] = python_type(n)
        elif python_type in (dict, list):
            values[key] = python_type()
        elif python_type is dt.date:
            values[key] = dt.date(2024, 1, 1)
        else:
            raise NotImplementedError(f"make_row cannot fill {model.__name__}.{key}")
    obj = model(**values)
    session.add(obj)
    await session.flush()
    return obj


@pytest.fixture(scope="session")
def app(engine: AsyncEngine) -> FastAPI:
    """The application with default settings, built once per backend (overrides the
    per-test `app`: building one costs ~0.2 s)."""
    return create_app(settings_for(engine))


@pytest.fixture(scope="session")
def open_app(engine: AsyncEngine) -> FastAPI:
    """An application with self-service registration open."""
    return create_app(settings_for(engine, registration_open=True))


@pytest.fixture(scope="session")
def ttl_app(engine: AsyncEngine) -> FastAPI:
    """An application whose API keys expire one day after their creation."""
    return create_app(settings_for(engine, token_ttl_days=1))
