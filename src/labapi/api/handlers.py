"""Error rendering and request ids: every error on every path is problem+json.

A request id is taken from `X-Request-ID` (when sane) or made, set on the response and
logged with every unexpected error, whose body says only "internal error" and that id.
"""

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labapi.api.observability import request_id_var
from labapi.api.responses import ProblemResponse
from labapi.core.db import QUERY_COUNT
from labapi.core.errors import (
    BadRequest,
    ErrorItem,
    LabapiError,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    QueryError,
    ValidationFailed,
)
from labapi.core.faults import service_unavailable, sqlstate

log = logging.getLogger("labapi")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def with_header(send: Send, name: bytes, value: Callable[[], bytes]) -> Send:
    """`send` adding the header `name` to the response start, its value made then."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (name, value())]
        await send(message)

    return sending


class RequestIdMiddleware:
    """Give every request an id (`scope["state"]["request_id"]`, `X-Request-ID`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        # Every log line written while this request is served carries its id.
        token = request_id_var.set(request_id)

        send_with_id = with_header(send, b"x-request-id", lambda: request_id.encode("latin-1"))
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class QueryCountMiddleware:
    """`X-Query-Count`: the SQL statements a request ran before its response started
    (setting `debug_query_count`; a streamed body's later batches are not counted)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        token = QUERY_COUNT.set(counter)
        send_with_count = with_header(send, b"x-query-count", lambda: str(counter[0]).encode())
        try:
            await self.app(scope, receive, send_with_count)
        finally:
            QUERY_COUNT.reset(token)


def request_id(request: Request) -> str:
    """The id of the current request."""
    return str(getattr(request.state, "request_id", "") or "-")


def problem(request: Request, error: LabapiError) -> ProblemResponse:
    """Render a LabapiError."""
    return ProblemResponse(error.problem(), status_code=error.status, headers=error.headers)


async def _labapi_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, LabapiError)
    return problem(request, exc)


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    items = [
        ErrorItem(
            tuple(error.get("loc", ())), str(error.get("msg", "")), str(error.get("type", ""))
        )
        for error in exc.errors()
    ]
    in_query = all(item.loc[:1] == ("query",) for item in items) and items
    error: LabapiError
    if in_query:
        error = QueryError([ErrorItem(i.loc, i.msg, "invalid_parameter") for i in items])
    else:
        error = ValidationFailed("the request has invalid fields", items)
    return problem(request, error)


_HTTP_ERRORS: dict[int, type[LabapiError]] = {
    400: BadRequest,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
}


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_ERRORS.get(exc.status_code)
    if kind is None:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "code": f"LAB{exc.status_code}",
        }
        return ProblemResponse(body, status_code=exc.status_code, headers=exc.headers)
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route for {request.method} {request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    error = kind(detail, headers=dict(exc.headers or {}))
    return problem(request, error)


# SQLSTATEs that a client's input can provoke and that say what was wrong with it.
_CLIENT_SQLSTATES = {
    "2201B": ("invalid_regex", "the regular expression is not valid on this database"),
    "22P02": ("invalid_value", "a value has the wrong form for its column"),
    "22003": ("invalid_value", "a number is out of range"),
    "22008": ("invalid_value", "a datetime is out of range"),
    "22001": ("invalid_value", "a value is too long for its column"),
    "22021": ("invalid_value", "a value holds a character the database refuses (NUL)"),
    "22P05": ("invalid_value", "a value holds a character the database cannot store"),
}
_TOO_COMPLEX = ("invalid_parameter", "the query has more conditions than the database takes")
_CLIENT_SQLSTATES.update({"54000": _TOO_COMPLEX, "54001": _TOO_COMPLEX, "54023": _TOO_COMPLEX})
# SQLite has no SQLSTATEs: its messages. Its only user function that can raise is REGEXP
# past its time budget (core.db).
_CLIENT_SQLITE_MESSAGES = {
    "user-defined function raised exception": (
        "invalid_regex",
        "the regular expression is too costly to evaluate",
    ),
    "Expression tree is too large": _TOO_COMPLEX,
    "too many SQL variables": _TOO_COMPLEX,
    "too many terms in compound SELECT": _TOO_COMPLEX,
}


async def _database_error(request: Request, exc: Exception) -> ProblemResponse:
    unavailable = service_unavailable(exc)
    if unavailable is not None:
        log.warning("%s %s: %s (%r)", request.method, request.url.path, unavailable.detail, exc)
        return problem(request, unavailable)
    if not isinstance(exc, DBAPIError):
        return await _unexpected(request, exc)
    state = sqlstate(exc)
    known = _CLIENT_SQLSTATES.get(state or "")
    if known is None:
        message = str(exc.orig)
        known = next((v for k, v in _CLIENT_SQLITE_MESSAGES.items() if k in message), None)
    if known is not None:
        kind, msg = known
        if request.method in ("GET", "HEAD"):
            return problem(request, QueryError([ErrorItem(("query",), msg, kind)]))
        return problem(request, ValidationFailed(msg, [ErrorItem(("body",), msg, kind)]))
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    rid = request_id(request)
    log.error(
        "internal error on %s %s [request %s]",
        request.method,
        request.url.path,
        rid,
        exc_info=exc,
        # This runs after the request-id middleware has let go of the contextvar.
        extra={"request_id": rid},
    )
    body = {
        "type": "/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "internal error",
        "code": "LAB500",
        "request_id": rid,
    }
    # This handler runs outside RequestIdMiddleware (in Starlette's ServerErrorMiddleware),
    # so it sets the header itself.
    return ProblemResponse(body, status_code=500, headers={"x-request-id": rid})


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of error to its problem+json renderer."""
    app.add_exception_handler(LabapiError, _labapi_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Database faults (core.faults) are handled here, inside the request-id middleware,
    # rather than by the catch-all, which runs outside it and re-raises to the server.
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(OSError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
