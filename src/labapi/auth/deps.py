"""Who is calling, and may they: `CurrentUser` and `require_permission(label)`.

Credentials are `Authorization: Token <key>` (or `Bearer <key>`) and HTTP Basic, on both
surfaces alike. Anything else — no header, an unknown or expired key, a wrong password, an
inactive user, a garbled header — is a 401.
"""

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import User
from labapi.auth.passwords import hash_password, verify_password_async
from labapi.auth.permissions import has_permission
from labapi.auth.throttle import LoginThrottle, client_address
from labapi.auth.tokens import user_for_key
from labapi.core.db import get_session
from labapi.core.errors import NotAuthenticated, PermissionDenied, TooManyRequests

CHALLENGE = {"WWW-Authenticate": 'Token realm="labapi", Basic realm="labapi"'}
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = hash_password("labapi-timing-equaliser")


def _refuse(detail: str) -> NotAuthenticated:
    return NotAuthenticated(detail, headers=CHALLENGE)


async def _find_login(session: AsyncSession, login: str) -> User | None:
    # PostgreSQL refuses a NUL in a text parameter (an error, a 500): no such user.
    if "\x00" in login:
        return None
    user = await session.scalar(select(User).where(User.username == login))
    if user is None and "@" in login:
        by_email = (
            await session.scalars(
                select(User).where(func.lower(User.email) == login.lower()).limit(2)
            )
        ).all()
        user = by_email[0] if len(by_email) == 1 else None
    return user


async def check_password(session: AsyncSession, login: str, password: str) -> User | None:
    """The active user with this username (or unique e-mail) and password.

    An outdated hash (Django's pbkdf2_sha256) is upgraded to Argon2 on success. An unknown
    login costs a hash verification too, so timing does not tell which usernames exist.
    """
    user = await _find_login(session, login) if login else None
    usable = user is not None and bool(user.password)
    stored = user.password if user is not None and usable else _DUMMY_HASH
    ok, new_hash = await verify_password_async(password, stored)
    if user is None or not usable or not ok or not user.is_active:
        return None
    if new_hash:
        user.password = new_hash
    return user


async def throttled_check(
    request: Request, session: AsyncSession, login: str, password: str
) -> User | None:
    """`check_password` behind the app's login throttle."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request)
    wait = throttle.retry_after(login, address)
    if wait is not None:
        raise TooManyRequests(
            f"Too many failed logins; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    user = await check_password(session, login, password)
    if user is None:
        throttle.failed(login, address)
    else:
        throttle.succeeded(login)
    return user


async def authenticate(request: Request, session: AsyncSession) -> User | None:
    """The user the request's credentials name; None without credentials."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    scheme = scheme.lower()
    if scheme in ("token", "bearer"):
        settings = request.app.state.settings
        found = await user_for_key(session, credentials, settings.token_ttl_days)
        if found is None:
            raise _refuse("Invalid or expired token.")
        request.state.token = found[1]
        return found[0]
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        # binascii.Error and UnicodeDecodeError are ValueErrors, and so is what b64decode
        # raises for a non-ASCII string (a plain ValueError, which was a 500).
        except ValueError:
            raise _refuse("Invalid basic header: credentials are not base64 UTF-8.") from None
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            raise _refuse("Invalid basic header: no username and password.")
        user = await throttled_check(request, session, username, password)
        if user is None:
            raise _refuse("Invalid username/password.")
        return user
    raise _refuse("Unsupported authorization scheme; use Token, Bearer or Basic.")


async def get_current_user(
    request: Request, session: Annotated[AsyncSession, Depends(get_session)]
) -> User:
    """The authenticated, active user; 401 otherwise."""
    cached: User | None = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    user = await authenticate(request, session)
    if user is None:
        raise _refuse("Authentication credentials were not provided.")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_permission(label: str) -> Callable[..., Awaitable[User]]:
    """A dependency that lets through only users holding `label` (or superusers)."""

    async def permitted(
        user: CurrentUser, session: Annotated[AsyncSession, Depends(get_session)]
    ) -> User:
        if not await has_permission(session, user, label):
            raise PermissionDenied(f"You do not have permission to perform this action ({label}).")
        return user

    permitted.__name__ = f"require_{label.replace('.', '_')}"
    return permitted
