"""Fixtures of the Isabl tests: one app per backend instead of one per test.

Building the app costs ~0.2 s (each route's error responses render their JSON schema),
which over hundreds of tests is most of the run; the app holds no per-test state besides
the session override that `app_client` sets for every test.
"""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import User
from labapi.isabl.models import Client
from labapi.main import create_app
from tests.conftest import client_as, settings_for

SEEDED_CLIENT = "default-backend-settings"


@pytest.fixture(scope="session")
def isabl_app(engine: AsyncEngine) -> FastAPI:
    """The application on the backend of this run, built once."""
    return create_app(settings_for(engine))


@pytest.fixture
async def client(
    isabl_app: FastAPI, session: AsyncSession, superuser: User
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the shared app acting as a superuser, its requests sharing the
    test's session. The client the migrations seed is removed (for this test only), so
    that every resource starts empty."""
    await session.execute(delete(Client).where(Client.slug == SEEDED_CLIENT))
    async with client_as(isabl_app, session, superuser) as client:
        yield client
