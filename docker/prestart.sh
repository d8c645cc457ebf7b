#!/bin/sh
# Wait for the database, migrate it to head, create the first superuser if there is
# none (its password is printed once, in the container log), then run the command.
set -eu

python - <<'PY'
import asyncio, sys, time
from sqlalchemy import text
from labapi.core.db import create_engine
from labapi.core.settings import Settings

async def ping() -> None:
    engine = create_engine(Settings())
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()

deadline = time.monotonic() + 60
while True:
    try:
        asyncio.run(ping())
        break
    except Exception as exc:  # the database may still be starting
        if time.monotonic() > deadline:
            sys.exit(f"database unreachable: {exc}")
        print(f"waiting for the database: {exc}", flush=True)
        time.sleep(2)
PY

labapi migrate
python - <<'PY'
import asyncio
from labapi.cli import ensure_admin
from labapi.core.settings import Settings

password = asyncio.run(ensure_admin(Settings()))
if password:
    print(f"Created superuser 'admin' with password: {password}", flush=True)
PY

exec "$@"
