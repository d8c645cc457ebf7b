"""Fail loudly (exit 1) when the test PostgreSQL server cannot be reached: the suite must
run on both databases, so a missing server is an error, never a silent skip."""

import asyncio
import os
import sys

import asyncpg
from sqlalchemy.engine import make_url

URL = os.environ.get(
    "LABAPI_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def main() -> int:
    url = make_url(URL).set(drivername="postgresql")
    try:
        conn = await asyncio.wait_for(
            asyncpg.connect(url.render_as_string(hide_password=False)), timeout=10
        )
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        sys.stderr.write(
            f"PostgreSQL is unreachable at {url.render_as_string()}: {exc}\n"
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
            " or set LABAPI_TEST_DATABASE_URL.\n"
        )
        return 1
    await conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
