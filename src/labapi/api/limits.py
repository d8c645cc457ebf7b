"""Request limits enforced before any handler runs: the body size (413), the query
string's length (414) and its number of parameters (400)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labapi.core.errors import BadRequest, LabapiError, PayloadTooLarge, UriTooLong


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes`: at once when Content-Length says so, else as soon as
    the streamed body passes the limit (chunked uploads cannot slip by)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self._detail())
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await refuse(PayloadTooLarge(self._detail()), scope, receive, send)


async def refuse(error: LabapiError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `error` without calling the app."""
    from labapi.api.responses import ProblemResponse

    response = ProblemResponse(error.problem(), status_code=error.status, headers=error.headers)
    await response(scope, receive, send)


class QueryLimitMiddleware:
    """Refuse query strings longer than `max_bytes` (414) or with more than `max_params`
    parameters (400), before anything parses them (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
    is the same idea): 10,000 filters would each be compiled into the SQL."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_params: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_params = max_params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope.get("query_string", b"")
            if len(query) > self.max_bytes:
                detail = f"the query string is longer than {self.max_bytes} bytes"
                await refuse(UriTooLong(detail), scope, receive, send)
                return
            if query.count(b"&") + 1 > self.max_params:
                pieces = sum(1 for piece in query.split(b"&") if piece)
                if pieces > self.max_params:
                    detail = f"more than {self.max_params} query parameters"
                    await refuse(BadRequest(detail), scope, receive, send)
                    return
        await self.app(scope, receive, send)
