"""Password hashing: Argon2 by default, Django's pbkdf2_sha256 accepted and upgraded.

Hashing is slow on purpose, so the async helpers run it in a worker thread.
"""

import anyio.to_thread
from passlib.context import CryptContext

CONTEXT = CryptContext(schemes=["argon2", "django_pbkdf2_sha256"], deprecated="auto")


def hash_password(password: str) -> str:
    """Hash a password with the default scheme (Argon2)."""
    return CONTEXT.hash(password)


def verify_password(password: str, stored: str) -> tuple[bool, str | None]:
    """Check a password; the second item is a new hash when the stored one is outdated."""
    if not stored:
        return False, None
    try:
        return CONTEXT.verify_and_update(password, stored)
    except ValueError:
        return False, None


async def hash_password_async(password: str) -> str:
    """`hash_password` off the event loop."""
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_async(password: str, stored: str) -> tuple[bool, str | None]:
    """`verify_password` off the event loop."""
    return await anyio.to_thread.run_sync(verify_password, password, stored)
