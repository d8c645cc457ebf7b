"""API keys and signed links.

- API keys: 40 random hex characters shown once; only their SHA-256 is stored, so a
  database leak reveals no usable key. Lookup is by the hash (an index, no timing oracle).
- Signed links (password reset, e-mail verification): `<base36 time>-<hmac>` over the
  user's state, so a reset link dies once the password changes, and after its timeout.
"""

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from labapi.auth.models import Token, User
from labapi.core.models import utcnow

KEY_BYTES = 20
_LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def issue_token(session: AsyncSession, user: User) -> str:
    """Create a new API key for `user` and return it (the only time it is seen)."""
    key = secrets.token_hex(KEY_BYTES)
    session.add(Token(user_id=user.id, key_hash=hash_key(key)))
    await session.flush()
    return key


def looks_like_key(key: str) -> bool:
    """Whether a string could be a key at all (garbage is refused before any query)."""
    return 0 < len(key) <= 128 and key.isascii() and key.isprintable() and " " not in key


async def user_for_key(
    session: AsyncSession, key: str, ttl_days: int | None
) -> tuple[User, Token] | None:
    """The active user owning `key`, if the key exists and has not expired."""
    if not looks_like_key(key):
        return None
    row = (
        await session.execute(
            select(Token, User)
            .join(User, Token.user_id == User.id)
            .where(Token.key_hash == hash_key(key))
        )
    ).first()
    if row is None:
        return None
    token, user = row
    now = utcnow()
    if ttl_days is not None and token.created + dt.timedelta(days=ttl_days) < now:
        return None
    if not user.is_active:
        return None
    if token.last_used is None or now - token.last_used > _LAST_USED_RESOLUTION:
        await _stamp(session, token, now)
    return user, token


async def _stamp(session: AsyncSession, token: Token, now: dt.datetime) -> None:
    """Record the key's use without waiting on another request's stamp.

    Many requests of one key run at once (a pipeline's workers). Setting the attribute
    would UPDATE the row in every one of them, each queueing on the first one's row lock
    until that request's transaction ends: behind a long write, up to the statement
    timeout. The row is updated only if it is not locked (SKIP LOCKED; SQLite runs one
    writer at a time anyway), and the object is told without being marked changed.
    """
    unlocked = (
        select(Token.id).where(Token.id == token.id).with_for_update(skip_locked=True)
    ).scalar_subquery()
    await session.execute(
        update(Token)
        .where(Token.id == unlocked)
        .values(last_used=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(token, "last_used", now)


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _state(user: User, purpose: str) -> bytes:
    login = user.last_login.isoformat() if user.last_login else ""
    return f"{purpose}|{user.id}|{user.password}|{user.email}|{user.is_active}|{login}".encode()


def make_link_token(key: bytes, user: User, purpose: str, now: float | None = None) -> str:
    """A token proving `purpose` for `user` in its current state."""
    stamp = _b36(int(now if now is not None else time.time()))
    mac = hmac.new(key, stamp.encode() + b"|" + _state(user, purpose), hashlib.sha256)
    return f"{stamp}-{mac.hexdigest()[:32]}"


def check_link_token(
    key: bytes, user: User, purpose: str, token: str, max_age: dt.timedelta
) -> bool:
    """Whether `token` was made for `user` and `purpose`, is untouched and not too old."""
    stamp, _, _ = token.partition("-")
    try:
        issued = int(stamp, 36)
    except ValueError:
        return False
    expected = make_link_token(key, user, purpose, now=issued)
    if not hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace")):
        return False
    return 0 <= time.time() - issued <= max_age.total_seconds()


def encode_uid(user_id: int) -> str:
    """The `uid` of reset links (Django's urlsafe base64 of the id)."""
    return base64.urlsafe_b64encode(str(user_id).encode()).decode().rstrip("=")


def decode_uid(uid: str) -> int | None:
    """The id in a `uid`, or None for garbage."""
    try:
        raw = base64.urlsafe_b64decode(uid + "=" * (-len(uid) % 4)).decode()
        return int(raw) if raw.isdigit() and len(raw) < 19 else None
    except (ValueError, UnicodeDecodeError):
        return None
