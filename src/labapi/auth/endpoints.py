"""Login, logout, passwords, registration, the caller's own user and preferences.

Isabl's `rest-auth/*` (django-rest-auth) under `/api/v1/`, and the facility's
`POST /api/auth/token`. Login, registration, password reset and e-mail verification are
open; everything else needs credentials.
"""

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.api.bodies import read_body
from labapi.api.factory import add_route
from labapi.api.openapi import problems, request_body
from labapi.api.responses import ORJSONResponse, ProblemResponse
from labapi.auth import schemas as s
from labapi.auth.deps import CurrentUser, throttled_check
from labapi.auth.models import Group, Permission, Token, User, user_group
from labapi.auth.passwords import hash_password_async
from labapi.auth.permissions import user_permission_labels
from labapi.auth.tokens import (
    check_link_token,
    decode_uid,
    encode_uid,
    issue_token,
    make_link_token,
)
from labapi.core.db import SessionDep
from labapi.core.errors import ErrorItem, PermissionDenied, ValidationFailed
from labapi.core.mail import send_mail
from labapi.core.models import utcnow
from labapi.core.settings import Settings, signing_key

log = logging.getLogger("labapi.auth")

RESET, VERIFY = "password-reset", "verify-email"
LOGIN_FAILED = "Unable to log in with provided credentials."


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _field_error(field: str, msg: str) -> ValidationFailed:
    return ValidationFailed(msg, [ErrorItem(("body", field), msg, "value_error")])


def _same_passwords(first: str, second: str, names: tuple[str, str]) -> None:
    if first != second:
        raise _field_error(names[1], "The two password fields didn't match.")


# ------------------------------------------------------------------------- Isabl
isabl = APIRouter(prefix="/api/v1", tags=["rest-auth"])


async def login(request: Request, session: SessionDep) -> Response:
    """Check the credentials and return an API key (a new one each time)."""
    body = await read_body(request, s.Login)
    login_name = body.username or body.email or ""
    user = await throttled_check(request, session, login_name, body.password)
    if user is None:
        error = ValidationFailed(LOGIN_FAILED, [ErrorItem(("body",), LOGIN_FAILED, "login")])
        content = {**error.problem(), "non_field_errors": [LOGIN_FAILED]}
        return ProblemResponse(content, status_code=400)
    user.last_login = utcnow()
    return ORJSONResponse({"key": await issue_token(session, user)})


add_route(
    isabl,
    "/rest-auth/login/",
    login,
    ["POST"],
    operation_id="rest-auth_login_create",
    responses=problems(400, 429),
    summary="Log in",
    response_model=s.LoginKey,
    openapi_extra=request_body(s.Login),
)


async def logout(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Delete the API key this request was made with."""
    token: Token | None = getattr(request.state, "token", None)
    if token is not None:
        await session.execute(delete(Token).where(Token.id == token.id))
    return ORJSONResponse({"detail": "Successfully logged out."})


for method in ("GET", "POST"):
    add_route(
        isabl,
        "/rest-auth/logout/",
        logout,
        [method],
        operation_id=f"rest-auth_logout_{'list' if method == 'GET' else 'create'}",
        responses=problems(401),
        summary="Log out",
        response_model=s.Detail,
    )


async def password_change(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Set a new password (the old one is checked when given)."""
    body = await read_body(request, s.PasswordChange)
    if (
        body.old_password is not None
        and await throttled_check(request, session, user.username, body.old_password) is None
    ):
        raise _field_error("old_password", "Your old password was entered incorrectly.")
    _same_passwords(body.new_password1, body.new_password2, ("new_password1", "new_password2"))
    user.password = await hash_password_async(body.new_password1)
    return ORJSONResponse({"detail": "New password has been saved."})


add_route(
    isabl,
    "/rest-auth/password/change/",
    password_change,
    ["POST"],
    operation_id="rest-auth_password_change_create",
    responses=problems(400, 401),
    summary="Change password",
    response_model=s.Detail,
    openapi_extra=request_body(s.PasswordChange),
)


async def password_reset(request: Request, session: SessionDep) -> Response:
    """Mail a reset link; the answer is the same whether the address is known or not."""
    body = await read_body(request, s.PasswordReset)
    settings = _settings(request)
    users = (
        await session.scalars(
            select(User).where(func.lower(User.email) == body.email.strip().lower(), User.is_active)
        )
    ).all()
    for user in users:
        # Mails name paths, never the request's host: the Host header is the client's to
        # choose, and a reset mail pointing at an attacker's host would hand it the token
        # (there is no configured public URL to use instead).
        token = make_link_token(signing_key(settings), user, RESET)
        uid = encode_uid(user.id)
        await send_mail(
            session=session,
            settings=settings,
            recipients=[user.email],
            subject="Password reset",
            body=(
                f"Someone asked to reset the password of {user.username}.\n\n"
                "POST /api/v1/rest-auth/password/reset/confirm/ on this server with\n"
                f"uid={uid}\ntoken={token}\nand the new password twice "
                f"(new_password1, new_password2).\n\n"
                f"The link expires in {settings.password_reset_timeout_hours} hours. "
                "If you did not ask for it, ignore this message."
            ),
        )
    return ORJSONResponse({"detail": "Password reset e-mail has been sent."})


add_route(
    isabl,
    "/rest-auth/password/reset/",
    password_reset,
    ["POST"],
    operation_id="rest-auth_password_reset_create",
    responses=problems(400),
    summary="Ask for a password reset",
    response_model=s.Detail,
    openapi_extra=request_body(s.PasswordReset),
)


async def password_reset_confirm(request: Request, session: SessionDep) -> Response:
    """Set a new password with a reset link's uid and token; every API key is revoked."""
    body = await read_body(request, s.PasswordResetConfirm)
    settings = _settings(request)
    user_id = decode_uid(body.uid)
    user = await session.get(User, user_id) if user_id is not None else None
    max_age = dt.timedelta(hours=settings.password_reset_timeout_hours)
    if user is None or not user.is_active:
        raise _field_error("uid", "Invalid value")
    if not check_link_token(signing_key(settings), user, RESET, body.token, max_age):
        raise _field_error("token", "Invalid value")
    _same_passwords(body.new_password1, body.new_password2, ("new_password1", "new_password2"))
    user.password = await hash_password_async(body.new_password1)
    await session.execute(delete(Token).where(Token.user_id == user.id))
    return ORJSONResponse({"detail": "Password has been reset with the new password."})


add_route(
    isabl,
    "/rest-auth/password/reset/confirm/",
    password_reset_confirm,
    ["POST"],
    operation_id="rest-auth_password_reset_confirm_create",
    responses=problems(400),
    summary="Reset a password",
    response_model=s.Detail,
    openapi_extra=request_body(s.PasswordResetConfirm),
)


async def registration(request: Request, session: SessionDep) -> Response:
    """Create an inactive account and mail its verification key (when registration is open)."""
    settings = _settings(request)
    if not settings.registration_open:
        raise PermissionDenied("Registration is closed on this server.")
    body = await read_body(request, s.Registration)
    _same_passwords(body.password1, body.password2, ("password1", "password2"))
    taken = await session.scalar(select(User.id).where(User.username == body.username))
    if taken is not None:
        raise _field_error("username", "A user with that username already exists.")
    email_taken = await session.scalar(
        select(User.id).where(func.lower(User.email) == body.email.lower())
    )
    if email_taken is not None:
        raise _field_error("email", "A user is already registered with this e-mail address.")
    user = User(
        username=body.username,
        email=body.email,
        first_name=body.first_name,
        last_name=body.last_name,
        password=await hash_password_async(body.password1),
        is_active=False,
    )
    session.add(user)
    await session.flush()
    key = f"{encode_uid(user.id)}:{make_link_token(signing_key(settings), user, VERIFY)}"
    await send_mail(
        session=session,
        settings=settings,
        recipients=[user.email],
        subject="Confirm your e-mail address",
        body=(
            f"Welcome {user.first_name}. Confirm your address with\n\n"
            f"GET /api/v1/rest-auth/registration/account-confirm-email/{key}/ on this server"
            f'\n\nor POST {{"key": "{key}"}} to /api/v1/rest-auth/registration/verify-email/'
        ),
    )
    return ORJSONResponse({"detail": "Verification e-mail sent."}, status_code=201)


add_route(
    isabl,
    "/rest-auth/registration/",
    registration,
    ["POST"],
    operation_id="rest-auth_registration_create",
    responses=problems(400, 403),
    summary="Register",
    status_code=201,
    response_model=s.Detail,
    openapi_extra=request_body(s.Registration),
)


async def _verify(key: str, session: AsyncSession, settings: Settings) -> Response:
    uid, _, token = key.partition(":")
    user_id = decode_uid(uid)
    user = await session.get(User, user_id) if user_id is not None else None
    max_age = dt.timedelta(hours=settings.password_reset_timeout_hours)
    if user is None or not check_link_token(signing_key(settings), user, VERIFY, token, max_age):
        raise _field_error("key", "Invalid or expired key.")
    user.is_active = True
    return ORJSONResponse({"detail": "ok"})


async def verify_email(request: Request, session: SessionDep) -> Response:
    """Activate an account with the key mailed at registration."""
    body = await read_body(request, s.VerifyEmail)
    return await _verify(body.key, session, _settings(request))


async def confirm_email(key: str, request: Request, session: SessionDep) -> Response:
    """Activate an account by following the mailed link."""
    return await _verify(key, session, _settings(request))


async def registration_settings(request: Request) -> Response:
    """Whether self-service registration is open."""
    return ORJSONResponse({"registration_open": _settings(request).registration_open})


add_route(
    isabl,
    "/rest-auth/registration/verify-email/",
    verify_email,
    ["POST"],
    operation_id="rest-auth_registration_verify-email_create",
    responses=problems(400),
    summary="Verify an e-mail address",
    response_model=s.Detail,
    openapi_extra=request_body(s.VerifyEmail),
)
add_route(
    isabl,
    "/rest-auth/registration/account-confirm-email/{key}/",
    confirm_email,
    ["GET"],
    operation_id="rest-auth_registration_account-confirm-email_read",
    responses=problems(400),
    summary="Verify an e-mail address (link)",
    response_model=s.Detail,
)
add_route(
    isabl,
    "/rest-auth/registration/settings/",
    registration_settings,
    ["GET"],
    operation_id="rest-auth_registration_settings_list",
    summary="Registration settings",
)


async def me(user: CurrentUser) -> Response:
    """The calling user."""
    return ORJSONResponse(s.RestAuthUser.model_validate(user).model_dump(mode="json"))


def _make_me_update(schema: type[BaseModel]) -> Any:
    async def me_update(request: Request, session: SessionDep, user: CurrentUser) -> Response:
        """Change the calling user's username, names or preferences."""
        body = await read_body(request, schema)
        data = body.model_dump(exclude_unset=True)
        if data.get("username") not in (None, user.username):
            taken = await session.scalar(select(User.id).where(User.username == data["username"]))
            if taken is not None:
                raise _field_error("username", "A user with that username already exists.")
        for name in ("username", "first_name", "last_name", "preferences"):
            if data.get(name) is not None:
                setattr(user, name, data[name])
        await session.flush()
        return ORJSONResponse(s.RestAuthUser.model_validate(user).model_dump(mode="json"))

    return me_update


add_route(
    isabl,
    "/rest-auth/user/",
    me,
    ["GET"],
    operation_id="rest-auth_user_read",
    responses=problems(401),
    summary="The calling user",
    response_model=s.RestAuthUser,
)
for method, action, schema in (
    ("PUT", "update", s.RestAuthUserUpdate),
    ("PATCH", "partial_update", s.RestAuthUserPatch),
):
    add_route(
        isabl,
        "/rest-auth/user/",
        _make_me_update(schema),
        [method],
        operation_id=f"rest-auth_user_{action}",
        responses=problems(400, 401),
        summary="Update the calling user",
        response_model=s.RestAuthUser,
        openapi_extra=request_body(schema),
    )


async def auth_check(user: CurrentUser) -> Response:
    """200 for an authenticated user (isabl_cli's credential check)."""
    return ORJSONResponse({"detail": "Authenticated.", "username": user.username})


add_route(
    isabl,
    "/auth/",
    auth_check,
    ["GET"],
    operation_id="auth_list",
    summary="Authenticate user",
    responses=problems(401),
)


async def _preferences(session: AsyncSession, user: User) -> dict[str, Any]:
    groups = (
        await session.scalars(
            select(Group.name)
            .join(user_group, user_group.c.group_id == Group.id)
            .where(user_group.c.user_id == user.id)
        )
    ).all()
    return {
        "preferences": user.preferences or {},
        "permissions": sorted(await user_permission_labels(session, user)),
        "groups": sorted(groups),
        "is_superuser": user.is_superuser,
    }


async def preferences_read(session: SessionDep, user: CurrentUser) -> Response:
    """The caller's preferences, permissions, groups and superuser flag."""
    return ORJSONResponse(await _preferences(session, user))


def _make_preferences_update(schema: type[BaseModel]) -> Any:
    async def preferences_update(
        request: Request, session: SessionDep, user: CurrentUser
    ) -> Response:
        """Change preferences; only a superuser may change permissions, groups or superuser."""
        body = await read_body(request, schema)
        data = body.model_dump(exclude_unset=True)
        current = await _preferences(session, user)
        grants = {
            name: data[name]
            for name in ("permissions", "groups", "is_superuser")
            if data.get(name) is not None
        }
        wanted = {
            "permissions": sorted(set(grants.get("permissions", current["permissions"]))),
            "groups": sorted(set(grants.get("groups", current["groups"]))),
            "is_superuser": grants.get("is_superuser", current["is_superuser"]),
        }
        changed = [name for name, value in wanted.items() if value != current[name]]
        if changed and not user.is_superuser:
            raise PermissionDenied(f"Only a superuser may change {', '.join(changed)}.")
        if changed:
            await session.refresh(user, ["user_permissions", "groups"])
        if "permissions" in changed:
            user.user_permissions = await _permissions_named(session, wanted["permissions"])
        if "groups" in changed:
            user.groups = await _groups_named(session, wanted["groups"])
        if "is_superuser" in changed:
            user.is_superuser = bool(wanted["is_superuser"])
        if data.get("preferences") is not None:
            user.preferences = data["preferences"]
        await session.flush()
        return ORJSONResponse(await _preferences(session, user))

    return preferences_update


async def _permissions_named(session: AsyncSession, labels: list[str]) -> list[Permission]:
    found = {
        p.label: p for p in await session.scalars(select(Permission)) if p.label in set(labels)
    }
    unknown = sorted(set(labels) - set(found))
    if unknown:
        raise _field_error("permissions", f"unknown permissions: {', '.join(unknown)}")
    return list(found.values())


async def _groups_named(session: AsyncSession, names: list[str]) -> list[Group]:
    groups = (await session.scalars(select(Group).where(Group.name.in_(names)))).all()
    unknown = sorted(set(names) - {group.name for group in groups})
    if unknown:
        raise _field_error("groups", f"unknown groups: {', '.join(unknown)}")
    return list(groups)


add_route(
    isabl,
    "/preferences/",
    preferences_read,
    ["GET"],
    operation_id="preferences_read",
    responses=problems(401),
    summary="The caller's preferences",
    response_model=s.Preferences,
)
for method, action, schema in (
    ("PUT", "update", s.Preferences),
    ("PATCH", "partial_update", s.PreferencesPatch),
):
    add_route(
        isabl,
        "/preferences/",
        _make_preferences_update(schema),
        [method],
        operation_id=f"preferences_{action}",
        responses=problems(400, 401, 403),
        summary="Update the caller's preferences",
        response_model=s.Preferences,
        openapi_extra=request_body(schema),
    )


# ---------------------------------------------------------------------- facility
facility = APIRouter(prefix="/api", tags=["auth"])


async def facility_token(request: Request, session: SessionDep) -> Response:
    """Trade a username and password for an API key."""
    body = await read_body(request, s.Login)
    user = await throttled_check(request, session, body.username or body.email or "", body.password)
    if user is None:
        raise ValidationFailed(LOGIN_FAILED, [ErrorItem(("body",), LOGIN_FAILED, "login")])
    user.last_login = utcnow()
    return ORJSONResponse({"token": await issue_token(session, user)})


add_route(
    facility,
    "/auth/token",
    facility_token,
    ["POST"],
    operation_id="auth_token_create",
    responses=problems(400, 429),
    summary="Get an API key",
    response_model=s.FacilityToken,
    openapi_extra=request_body(s.Login),
)

AUTH_BODIES: tuple[type[BaseModel], ...] = (
    s.Login,
    s.PasswordChange,
    s.PasswordReset,
    s.PasswordResetConfirm,
    s.Registration,
    s.VerifyEmail,
    s.RestAuthUserUpdate,
    s.RestAuthUserPatch,
    s.Preferences,
    s.PreferencesPatch,
)
ROUTERS = (isabl, facility)
