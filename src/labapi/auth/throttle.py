"""Login throttling: failed password checks counted per username and per client address
in a sliding window; past the limit, a 429 with `Retry-After`, before any hash is checked.

The counts live in the process (one uvicorn worker holds one throttle); a restart forgets
them, which errs toward letting people in.
"""

import time
from collections import defaultdict, deque

from fastapi import Request

from labapi.core.settings import Settings


class LoginThrottle:
    """Sliding-window counters of failed logins."""

    def __init__(self, per_username: int, per_address: int, window: float) -> None:
        self.limits = {"username": per_username, "address": per_address}
        self.window = window
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginThrottle":
        """A throttle with the configured limits."""
        return cls(
            settings.login_failures_per_username,
            settings.login_failures_per_address,
            settings.login_failure_window_seconds,
        )

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self.failures[key]
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self.failures[key]
        return stamps

    def retry_after(self, username: str, address: str, now: float | None = None) -> int | None:
        """Seconds to wait when either counter is full, else None."""
        now = time.monotonic() if now is None else now
        waits = []
        for kind, value in (("username", username.lower()), ("address", address)):
            stamps = self._recent((kind, value), now)
            if len(stamps) >= self.limits[kind]:
                waits.append(int(stamps[0] + self.window - now) + 1)
        return max(waits) if waits else None

    def failed(self, username: str, address: str, now: float | None = None) -> None:
        """Count a failed attempt."""
        now = time.monotonic() if now is None else now
        self.failures[("username", username.lower())].append(now)
        self.failures[("address", address)].append(now)

    def succeeded(self, username: str) -> None:
        """A right password clears the username's count (not the address's)."""
        self.failures.pop(("username", username.lower()), None)


def client_address(request: Request) -> str:
    """The caller's address (uvicorn's --proxy-headers puts the forwarded one here)."""
    return request.client.host if request.client else "-"
