"""`labapi serve | migrate | createsuperuser | demo` (also `python -m labapi`)."""

import argparse
import asyncio
import getpass
import secrets
import sys
from collections.abc import Sequence

from sqlalchemy import func, select

from labapi.auth.models import User
from labapi.auth.passwords import hash_password_async
from labapi.core.db import create_engine, create_sessionmaker
from labapi.core.migrate import upgrade
from labapi.core.settings import Settings, get_settings


def migrate(settings: Settings) -> None:
    """Bring the database schema to the newest revision."""
    upgrade(settings.database_url)


async def create_superuser(
    settings: Settings, username: str, password: str, email: str = ""
) -> bool:
    """Create a superuser; False when the username is taken."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            taken = await session.scalar(select(User.id).where(User.username == username))
            if taken is not None:
                return False
            session.add(
                User(
                    username=username,
                    email=email,
                    password=await hash_password_async(password),
                    is_superuser=True,
                )
            )
            await session.commit()
            return True
    finally:
        await engine.dispose()


async def ensure_admin(settings: Settings) -> str | None:
    """On first start (no users at all) create `admin` with a random password; return it."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            users = await session.scalar(select(func.count()).select_from(User))
    finally:
        await engine.dispose()
    if users:
        return None
    password = secrets.token_urlsafe(18)
    await create_superuser(settings, "admin", password)
    return password


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, create the first superuser if needed, serve with uvicorn."""
    import uvicorn

    from labapi.api.observability import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    migrate(settings)
    password = asyncio.run(ensure_admin(settings))
    if password:
        print(
            "Created superuser 'admin' with password:\n\n"
            f"    {password}\n\n"
            "It is shown only this once; change it or create others with "
            "`labapi createsuperuser`.",
            flush=True,
        )
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"labapi on http://{host}:{port}/  (docs: http://{host}:{port}/docs)", flush=True)
    uvicorn.run(
        "labapi.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        # Logging is ours (JSON lines, one access line per request with its id).
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate and say so."""
    migrate(settings)
    print("database is at the newest revision", flush=True)
    return 0


def cmd_createsuperuser(args: argparse.Namespace, settings: Settings) -> int:
    """Create a superuser, asking for what was not given."""
    username = args.username or input("Username: ").strip()
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            print("--password is required without a terminal", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            print("passwords differ", file=sys.stderr)
            return 2
    if not username or not password:
        print("username and password must not be empty", file=sys.stderr)
        return 2
    migrate(settings)
    if not asyncio.run(create_superuser(settings, username, password, args.email or "")):
        print(f"user {username!r} already exists", file=sys.stderr)
        return 1
    print(f"superuser {username!r} created", flush=True)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Load the demo dataset (idempotent: loading twice creates nothing new)."""
    from labapi.demo import load_demo

    migrate(settings)
    created = asyncio.run(load_demo(settings, progress=print))
    print(f"demo dataset loaded: {created} objects created", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    root = argparse.ArgumentParser(prog="labapi", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then serve the API with uvicorn")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="migrate the database").set_defaults(func=cmd_migrate)
    superuser = commands.add_parser("createsuperuser", help="create a superuser")
    superuser.add_argument("--username")
    superuser.add_argument("--password")
    superuser.add_argument("--email")
    superuser.set_defaults(func=cmd_createsuperuser)
    commands.add_parser("demo", help="load a small demo dataset").set_defaults(func=cmd_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command."""
    args = parser().parse_args(argv)
    return int(args.func(args, get_settings()))
