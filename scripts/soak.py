"""Soak test: wrk at saturation against `labapi serve` on PostgreSQL, on 127.0.0.1 only.

    python scripts/soak.py [--seconds 600] [--slice 30] [--connections 32] [--port 8765]

Makes a PostgreSQL schema of its own (dropped at the end), migrates it, loads the demo
data and a superuser, starts uvicorn, then runs wrk in slices (a Lua script adds the token
and rotates over list, filtered list, detail, search and probe requests). After each slice
it records requests/s, p50/p99 latency, errors (non-2xx/3xx and socket errors) and the
server's RSS. Stops the server with SIGTERM (graceful shutdown) and writes everything to
var/soak/<time>.json. Bounded: it stops by itself after --seconds.
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LABAPI_SOAK_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/test")

LUA = r"""
local paths = {
  "/api/v1/techniques?method__in=WG,WE&ordering=-name",
  "/api/v1/centers?limit=1&offset=1",
  "/api/v1/platforms?[system,version]__icontains=nova",
  "/api/v1/centers/1",
  "/api/v1/diseases?search=leuk&fields=name,acronym",
  "/api/v1/tags",
  "/api/v1/techniques?created__year=2026&tags=dna",
  "/readyz",
}
local i = 0
request = function()
  i = i + 1
  local path = paths[(i % #paths) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Token TOKEN"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK {\"requests\": %d, \"duration_us\": %d, \"p50_ms\": %.3f, \"p99_ms\": %.3f, " ..
    "\"max_ms\": %.3f, \"status_errors\": %d, \"connect\": %d, \"read\": %d, " ..
    "\"write\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.status, e.connect, e.read,
    e.write, e.timeout))
end
"""


def labapi(*args: str, env: dict[str, str]) -> str:
    """Run a labapi command; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "labapi", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"labapi {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


async def schema_sql(statement: str) -> None:
    from sqlalchemy import text

    from labapi.core.db import create_engine
    from labapi.core.settings import Settings

    engine = create_engine(Settings(database_url=PG_URL))
    async with engine.begin() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def rss_kib(pid: int) -> int:
    """Resident memory of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def wait_ready(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def login(base: str, password: str) -> str:
    body = json.dumps({"username": "soak", "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/rest-auth/login/", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["key"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--slice", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    schema = f"labapi_soak_{os.getpid()}_{secrets.token_hex(3)}"
    workdir = Path(tempfile.mkdtemp(prefix="labapi-soak-"))
    env = {
        **os.environ,
        "LABAPI_DATABASE_URL": PG_URL,
        "LABAPI_DATABASE_SCHEMA": schema,
        "LABAPI_SECRET_KEY": secrets.token_hex(16),
        "LABAPI_LOG_LEVEL": "WARNING",  # access lines at saturation would be the load
        "LABAPI_ALLOWED_HOSTS": '["127.0.0.1"]',
    }
    base = f"http://127.0.0.1:{args.port}"
    asyncio.run(schema_sql(f'CREATE SCHEMA "{schema}"'))
    server = None
    slices: list[dict[str, object]] = []
    try:
        labapi("migrate", env=env)
        password = secrets.token_urlsafe(12)
        labapi("createsuperuser", "--username", "soak", "--password", password, env=env)
        labapi("demo", env=env)
        log = (workdir / "server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "labapi", "serve", "--host", "127.0.0.1"]
            + ["--port", str(args.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_ready(base, time.monotonic() + 60)
        token = login(base, password)
        script = workdir / "soak.lua"
        script.write_text(LUA.replace("TOKEN", token))
        print(f"server pid {server.pid}, RSS {rss_kib(server.pid)} KiB; {args.seconds} s of wrk")
        print(
            f"{'t(s)':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
            f"{'RSS KiB':>9}"
        )
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < args.seconds:
            length = int(min(args.slice, args.seconds - elapsed)) or 1
            out = subprocess.run(
                ["wrk", "-t", str(args.threads), "-c", str(args.connections)]
                + ["-d", f"{length}s", "--timeout", "10s", "-s", str(script), base],
                capture_output=True,
                text=True,
                timeout=length + 60,
            ).stdout
            line = next(x for x in out.splitlines() if x.startswith("SOAK "))
            result = json.loads(line[5:])
            errors = sum(result[k] for k in ("status_errors", "connect", "read", "write"))
            result.update(
                t=round(time.monotonic() - start),
                rps=round(result["requests"] / (result["duration_us"] / 1e6), 1),
                errors=errors + result["timeout"],
                rss_kib=rss_kib(server.pid),
            )
            slices.append(result)
            print(
                f"{result['t']:>5} {result['rps']:>8} {result['p50_ms']:>8.1f} "
                f"{result['p99_ms']:>8.1f} {result['max_ms']:>8.1f} {result['errors']:>7} "
                f"{result['rss_kib']:>9}",
                flush=True,
            )
    finally:
        exit_code = None
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                exit_code = server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        asyncio.run(schema_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    report = {
        "seconds": args.seconds,
        "connections": args.connections,
        "threads": args.threads,
        "server_exit_code": exit_code,
        "requests": sum(int(s["requests"]) for s in slices),  # type: ignore[call-overload]
        "errors": sum(int(s["errors"]) for s in slices),  # type: ignore[call-overload]
        "slices": slices,
        "server_log": str(workdir / "server.log"),
    }
    out_dir = ROOT / "var" / "soak"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"{report['requests']} requests, {report['errors']} errors, server exit {exit_code}")
    print(f"report: {path}")
    # uvicorn re-raises the SIGTERM it handled once it has shut down gracefully.
    return 0 if report["errors"] == 0 and exit_code in (0, -signal.SIGTERM) else 1


if __name__ == "__main__":
    sys.exit(main())
