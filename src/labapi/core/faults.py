"""Database faults that are not the client's doing, mapped in one place to a 503 with
`Retry-After`: the server is down or unreachable, a connection was lost or killed, the
pool stayed exhausted for `pool_timeout` seconds, a statement ran past the statement
timeout, SQLite stayed locked past its busy timeout.

`api/handlers.py` renders what `service_unavailable` returns; anything it does not
recognise stays a 500 (a bug).
"""

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from labapi.core.errors import ServiceUnavailable

# SQLSTATEs that say "the server or the connection", not "the query".
_UNAVAILABLE_CLASSES = ("08",)  # connection exceptions
_UNAVAILABLE_STATES = {
    "53300": "the database has too many connections",
    "57014": "the query ran longer than the statement timeout",
    "57P01": "the database is shutting down",
    "57P02": "the database is shutting down",
    "57P03": "the database is starting up",
    "40001": "the transaction clashed with another one",
    "40P01": "the transaction clashed with another one",
}
# SQLite's own words: busy past the busy timeout, or the file cannot be opened.
_SQLITE_MESSAGES = ("database is locked", "unable to open database file", "disk I/O error")


def sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error, where the driver gives one."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig.__cause__, "sqlstate", None)
    return str(state) if state else None


def service_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 that `exc` means, or None when it is not a fault of the database's side.

    Args:
        exc: an exception raised while serving a request.

    Returns:
        A ServiceUnavailable with `Retry-After`, or None.
    """
    reason: str | None = None
    retry_after = 5
    if isinstance(exc, PoolTimeout):
        reason, retry_after = "every database connection is busy", 1
    elif isinstance(exc, DBAPIError):
        state = sqlstate(exc)
        if exc.connection_invalidated:
            reason = "the database connection was lost"
        elif state in _UNAVAILABLE_STATES:
            reason, retry_after = _UNAVAILABLE_STATES[state], 1
        elif state is not None and state.startswith(_UNAVAILABLE_CLASSES):
            reason = "the database connection failed"
        elif isinstance(exc.orig, OSError) or isinstance(exc.orig.__cause__, OSError):
            reason = "the database cannot be reached"
        elif any(text in str(exc.orig) for text in _SQLITE_MESSAGES):
            reason, retry_after = "the database is busy", 1
    elif isinstance(exc, OSError):
        # asyncpg's connect() raises these unwrapped: refused, unreachable, timed out
        # (TimeoutError is an OSError).
        reason = "the database cannot be reached"
    if reason is None:
        return None
    return ServiceUnavailable(
        f"{reason}; try again later", headers={"Retry-After": str(retry_after)}
    )
