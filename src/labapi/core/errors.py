"""The errors labapi raises on purpose, each rendered as RFC 9457 problem details.

    LabapiError (status, code, type, title)
    ├── BadRequest                 400  LAB100  invalid request
    │   ├── QueryError             400  LAB1xx  a query parameter (query/ raises it)
    │   └── ValidationFailed       400  LAB200  a body field
    ├── NotAuthenticated           401  LAB300
    ├── PermissionDenied           403  LAB301
    ├── TooManyRequests            429  LAB302  login attempts throttled
    ├── NotFound                   404  LAB201
    ├── MethodNotAllowed           405  LAB203
    ├── Conflict                   409  LAB202  a write that clashes with stored rows
    ├── PayloadTooLarge            413  LAB204
    ├── RangeNotSatisfiable        416  LAB205  a byte range outside the file
    ├── UriTooLong                 414  LAB206  the query string is too long
    └── ServiceUnavailable         503  LAB501  the database cannot be reached

No web framework is imported here: `query/` raises these too. `api/handlers.py` renders them.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorItem:
    """One bad field or parameter, in Pydantic's loc/msg/type shape."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of the item."""
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


class LabapiError(Exception):
    """An error with an HTTP status; subclasses set the status, code and problem type."""

    status = 500
    code = "LAB500"
    slug = "internal-error"
    title = "Internal error"

    def __init__(
        self,
        detail: str,
        errors: list[ErrorItem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    def problem(self) -> dict[str, Any]:
        """The problem+json body."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = [item.as_dict() for item in self.errors]
        return body


class BadRequest(LabapiError):
    """A request that cannot be understood as it is."""

    status, code, slug, title = 400, "LAB100", "bad-request", "Bad request"


class ValidationFailed(BadRequest):
    """A request body with invalid fields."""

    status, code, slug, title = 400, "LAB200", "validation-error", "Validation error"


class NotAuthenticated(LabapiError):
    """No valid credentials were sent."""

    status, code, slug, title = 401, "LAB300", "not-authenticated", "Not authenticated"


class PermissionDenied(LabapiError):
    """The user may not do this."""

    status, code, slug, title = 403, "LAB301", "permission-denied", "Permission denied"


class TooManyRequests(LabapiError):
    """Too many failed attempts; `Retry-After` says when to try again."""

    status, code, slug, title = 429, "LAB302", "too-many-requests", "Too many requests"


class NotFound(LabapiError):
    """No such object or path."""

    status, code, slug, title = 404, "LAB201", "not-found", "Not found"


class MethodNotAllowed(LabapiError):
    """The path exists, the method does not."""

    status, code, slug, title = 405, "LAB203", "method-not-allowed", "Method not allowed"


class Conflict(LabapiError):
    """The write clashes with stored data (a protected reference, a unique key)."""

    status, code, slug, title = 409, "LAB202", "conflict", "Conflict"


class PayloadTooLarge(LabapiError):
    """The body is larger than the configured limit."""

    status, code, slug, title = 413, "LAB204", "payload-too-large", "Payload too large"


class RangeNotSatisfiable(LabapiError):
    """No requested byte range overlaps the file; `Content-Range: bytes */<size>`."""

    status, code, slug, title = 416, "LAB205", "range-not-satisfiable", "Range not satisfiable"


class UriTooLong(LabapiError):
    """The query string is longer than the configured limit."""

    status, code, slug, title = 414, "LAB206", "uri-too-long", "URI too long"


# Query errors: one code per kind of mistake, grouped like PostgREST's PGRST1xx.
QUERY_ERROR_KINDS: dict[str, tuple[str, str, str]] = {
    # type: (code, slug, title)
    "invalid_syntax": ("LAB100", "invalid-query-syntax", "Invalid query syntax"),
    "unknown_field": ("LAB101", "unknown-filter-field", "Unknown filter field"),
    "unknown_operator": ("LAB102", "unknown-operator", "Unknown operator"),
    "invalid_value": ("LAB103", "invalid-filter-value", "Invalid filter value"),
    "invalid_ordering": ("LAB104", "invalid-ordering", "Invalid ordering"),
    "invalid_regex": ("LAB105", "invalid-regex", "Invalid regular expression"),
    "operator_mismatch": ("LAB106", "operator-not-applicable", "Operator not applicable"),
    "invalid_parameter": ("LAB107", "invalid-parameter", "Invalid parameter"),
}


class QueryError(BadRequest):
    """One or more bad query parameters; the first one names the problem type."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        first = errors[0]
        code, slug, title = QUERY_ERROR_KINDS.get(first.type, QUERY_ERROR_KINDS["invalid_syntax"])
        where = ", ".join(repr(str(item.loc[-1])) for item in errors)
        super().__init__(detail=f"invalid query parameter {where}: {first.msg}", errors=errors)
        self.code, self.slug, self.title = code, slug, title

    @classmethod
    def one(cls, param: str, msg: str, kind: str) -> "QueryError":
        """A query error about one parameter."""
        return cls([ErrorItem(("query", param), msg, kind)])


class ServiceUnavailable(LabapiError):
    """A dependency (the database) is down; `Retry-After` says when to try again."""

    status, code, slug, title = 503, "LAB501", "service-unavailable", "Service unavailable"
