"""The command line, run as a newcomer runs it: `python -m labapi …` in a subprocess."""

import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from labapi.auth.passwords import verify_password
from labapi.cli import ensure_admin
from labapi.core.settings import Settings

pytestmark = pytest.mark.sqlite


def run(db, *args, timeout=60):
    env = {**os.environ, "LABAPI_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "labapi", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def users(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT username, password, is_superuser FROM auth_user").fetchall()


def test_createsuperuser_non_interactive(tmp_path):
    db = tmp_path / "cli.db"
    result = run(db, "createsuperuser", "--username", "ana", "--password", "s3cret:with:colons")
    assert result.returncode == 0, result.stderr
    [(name, hashed, superuser)] = users(db)
    assert (name, superuser) == ("ana", 1)
    assert hashed.startswith("$argon2")
    assert verify_password("s3cret:with:colons", hashed)[0]


def test_createsuperuser_refuses_a_taken_name(tmp_path):
    db = tmp_path / "cli.db"
    assert run(db, "createsuperuser", "--username", "ana", "--password", "x").returncode == 0
    again = run(db, "createsuperuser", "--username", "ana", "--password", "y")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_createsuperuser_without_terminal_needs_password(tmp_path):
    result = run(tmp_path / "cli.db", "createsuperuser", "--username", "ana")
    assert result.returncode == 2
    assert "--password" in result.stderr


def test_demo_loads_once_and_shows_progress(tmp_path):
    db = tmp_path / "cli.db"
    first = run(db, "demo")
    assert first.returncode == 0, first.stderr
    assert re.search(r"\[ 1/\d+\] created", first.stdout)
    created = int(re.search(r"(\d+) objects created", first.stdout).group(1))
    assert created > 0
    second = run(db, "demo")
    assert "0 objects created" in second.stdout


def test_migrate_creates_the_schema(tmp_path):
    db = tmp_path / "cli.db"
    assert run(db, "migrate").returncode == 0
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "auth_user", "center", "technique"} <= tables


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_creates_admin_once_and_answers(tmp_path):
    db = tmp_path / "cli.db"
    port = _free_port()
    env = {**os.environ, "LABAPI_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "labapi", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/openapi.json"
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "labapi did not start in 60 s"
                time.sleep(0.3)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    password = re.search(r"Created superuser 'admin' with password:\s+(\S+)", output).group(1)
    [(name, hashed, superuser)] = users(db)
    assert (name, superuser) == ("admin", 1)
    assert verify_password(password, hashed)[0]
    # A second start finds a user and creates none.
    second = run(db, "migrate")
    assert second.returncode == 0
    assert asyncio.run(ensure_admin(Settings(database_url=f"sqlite+aiosqlite:///{db}"))) is None
