"""Run the test suite shipped in the isabl-cli wheel against a fresh labapi.

`make test-isabl-cli` runs this. Steps: fetch the wheel from PyPI with pip into
`var/isabl-cli/` (kept between runs), build a virtualenv of its own there, migrate a fresh
database (SQLite in a temp dir; `ISABL_CLI_DB=postgres` for a PostgreSQL schema of its own,
dropped afterwards), create the `admin`/`admin` superuser, serve labapi with uvicorn on a
free 127.0.0.1 port, and run the wheel's `tests/` from a temp dir as a non-root user with a
throwaway HOME and the `isabl_cli_offline` plugin. The server is stopped whatever happens;
its log tail is printed when the suite fails. Results: `var/isabl-cli/last-run/`
(`junit.xml`, `pytest.log`, `server.log`). Extra arguments go to pytest
(`scripts/isabl_cli_suite.py -- -k test_api_methods -x`).
"""

import argparse
import asyncio
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "isabl_cli_offline.py"
VERSION = "2.0.2"
# What the wheel's tests import beyond isabl-cli itself (its `test` extra, trimmed to them).
TEST_REQUIREMENTS = ("pytest>=7.4", "factory-boy>=3.2")
# The one test that calls an outside host (http://google.com).
DESELECT = ("tests/test_api.py::test_api_request",)
CI_USER = "labapi-ci"
PG_URL = os.environ.get(
    "LABAPI_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def log(message: str) -> None:
    print(f"[isabl-cli] {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def world_usable(path: Path) -> bool:
    """True when any user may run `path`: every directory above it is o+x (root's
    `/root/.pyenv` is not, so a virtualenv made from it is unusable by the CI user)."""
    real = path.resolve()
    if not real.is_file() or not real.stat().st_mode & stat.S_IXOTH:
        return False
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in real.parents)


def base_python(non_root: bool) -> str:
    """The interpreter the client's virtualenv is made from (`ISABL_CLI_PYTHON` if set)."""
    if os.environ.get("ISABL_CLI_PYTHON"):
        return os.environ["ISABL_CLI_PYTHON"]
    candidates = [Path(getattr(sys, "_base_executable", sys.executable))]
    candidates += [Path(p) for p in ("/usr/bin/python3", "/usr/local/bin/python3")]
    for candidate in candidates:
        if not non_root or world_usable(candidate):
            return str(candidate)
    raise SystemExit(f"no Python usable by {CI_USER}; set ISABL_CLI_PYTHON")


def ensure_client(work: Path, non_root: bool) -> tuple[Path, Path]:
    """The wheel (downloaded once) and a virtualenv with it and the tests' requirements."""
    wheels, cache, venv = work / "wheels", work / "pip-cache", work / "venv"
    wheel = next(wheels.glob(f"isabl_cli-{VERSION}-*.whl"), None)
    if wheel is None:
        log(f"downloading isabl-cli=={VERSION} with pip")
        run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--cache-dir", str(cache), "--dest", str(wheels), f"isabl-cli=={VERSION}"]
        )
        wheel = next(wheels.glob(f"isabl_cli-{VERSION}-*.whl"))
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    interpreter = base_python(non_root)
    wanted = "\n".join((interpreter, wheel.name, *TEST_REQUIREMENTS))
    if not (stamp.exists() and stamp.read_text() == wanted):
        log(f"building the client virtualenv in {venv}")
        shutil.rmtree(venv, ignore_errors=True)
        run([interpreter, "-m", "venv", str(venv)])
        run(
            [str(python), "-m", "pip", "install", "--quiet", "--cache-dir", str(cache)]
            + [str(wheel), *TEST_REQUIREMENTS]
        )
        stamp.write_text(wanted)
    return wheel, python


def ensure_bgzip(work: Path) -> list[Path]:
    """bgzip and tabix for `test_import_bedfiles` (skipped without them): Debian's `tabix`
    package unpacked under `work` with `apt-get download` + `dpkg -x`, the system untouched.
    Returns the directories to put on the client's PATH (none when that fails)."""
    if shutil.which("bgzip") and shutil.which("tabix"):
        return []
    debs, root = work / "debs", work / "debs" / "root"
    bindir = root / "usr" / "bin"
    if not (bindir / "bgzip").exists() and shutil.which("apt-get"):
        debs.mkdir(parents=True, exist_ok=True)
        got = subprocess.run(
            ["apt-get", "download", "tabix"], cwd=debs, capture_output=True, check=False
        )
        for deb in debs.glob("tabix_*.deb") if got.returncode == 0 else ():
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=False)
    probe = [str(bindir / "bgzip"), "--version"]
    if (bindir / "bgzip").exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return [bindir]
    log("bgzip/tabix unavailable: tests/test_data.py::test_import_bedfiles will be skipped")
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ci_user() -> tuple[int, int] | None:
    """The non-root user the client runs as (created when missing); None when not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(CI_USER)
    except KeyError:
        log(f"creating user {CI_USER}")
        run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", CI_USER])
        entry = pwd.getpwnam(CI_USER)
    return entry.pw_uid, entry.pw_gid


async def pg_schema(action: str, schema: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        if action == "create":
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        else:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def server_env(db: str, tmp: Path, schema: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABAPI_")}
    env["LABAPI_SECRET_KEY"] = secrets.token_urlsafe(32)
    env["LABAPI_SECRET_KEY_FILE"] = str(tmp / "secret_key")
    # The suite logs in as admin/admin from many tests; the login throttle must not bite.
    env["LABAPI_LOGIN_FAILURES_PER_USERNAME"] = "100000"
    env["LABAPI_LOGIN_FAILURES_PER_ADDRESS"] = "100000"
    if db == "postgres":
        env["LABAPI_DATABASE_URL"] = PG_URL
        env["LABAPI_DATABASE_SCHEMA"] = schema or ""
    else:
        env["LABAPI_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'labapi.db'}"
    return env


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"labapi exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"labapi did not answer {url} within {timeout:.0f}s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def prepare_run_dir(run_dir: Path, wheel: Path, owner: tuple[int, int] | None) -> None:
    """Unpack the wheel's tests, the plugin and a HOME into a directory the user owns."""
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith("tests/")]
        archive.extractall(run_dir / "suite", members)
    (run_dir / "plugins").mkdir()
    shutil.copy(PLUGIN, run_dir / "plugins" / PLUGIN.name)
    (run_dir / "home").mkdir()
    if owner is not None:
        for path in (run_dir, *run_dir.rglob("*")):
            os.chown(path, *owner)


def pytest_command(python: Path, run_dir: Path, extra: list[str]) -> list[str]:
    # The whole suite unless the extra arguments name tests of their own.
    paths = [] if any(arg.startswith("tests") for arg in extra) else ["tests"]
    return [
        str(python),
        "-m",
        "pytest",
        "-p",
        PLUGIN.stem,
        *paths,
        *(f"--deselect={test}" for test in DESELECT),
        # `tests/test_cli.py` reads the client's settings from the API at import time.
        "--continue-on-collection-errors",
        "-rfE",
        "--tb=short",
        "--color=no",
        f"--junitxml={run_dir / 'junit.xml'}",
        f"--basetemp={run_dir / 'pytest-tmp'}",
        "-o",
        f"cache_dir={run_dir / '.pytest_cache'}",
        *extra,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("ISABL_CLI_DB", "sqlite"),
        help="database of the server (default: $ISABL_CLI_DB or sqlite)",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "isabl-cli")
    parser.add_argument(
        "--client-id",
        default="test-cli-client",
        help="ISABL_CLIENT_ID of the client ('' leaves it unset: the client then uses its "
        "default settings instead of reading them from /clients, a diagnostic run)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="record every request of every test in last-run/requests.jsonl",
    )
    parser.add_argument(
        "--extra-path",
        action="append",
        default=[],
        help="directory put first on the client's PATH (tools the suite looks for: "
        "bgzip and tabix, bsub, qsub, sbatch)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the suite")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    work = args.work.resolve()
    out = work / "last-run"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    owner = ci_user()
    wheel, python = ensure_client(work, owner is not None)
    tools = ensure_bgzip(work)

    tmp = Path(tempfile.mkdtemp(prefix="labapi-isablcli-"))
    schema = f"isablcli_{os.getpid()}_{secrets.token_hex(3)}" if args.db == "postgres" else None
    server_log = out / "server.log"
    server: subprocess.Popen[bytes] | None = None
    run_dir: Path | None = None
    rc = 1
    started = time.monotonic()
    try:
        if schema:
            asyncio.run(pg_schema("create", schema))
        env = server_env(args.db, tmp, schema)
        labapi = [sys.executable, "-m", "labapi"]
        # createsuperuser migrates first; the server's cwd is the temp dir (no stray .env).
        run(
            [*labapi, "createsuperuser", "--username", "admin", "--password", "admin"],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with server_log.open("wb") as sink:
            server = subprocess.Popen(
                [*labapi, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=tmp,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_ready(f"{base}/healthz", server)
        log(f"labapi ({args.db}) on {base}, up in {time.monotonic() - started:.1f}s")

        # Its own temp dir: `tmp` is root's (mode 0700) and holds the database.
        run_dir = Path(tempfile.mkdtemp(prefix="labapi-isablcli-run-"))
        prepare_run_dir(run_dir, wheel, owner)
        client_env = {
            "PATH": ":".join(
                [
                    *map(str, args.extra_path + tools),
                    str(python.parent),
                    "/usr/local/bin:/usr/bin:/bin",
                ]
            ),
            "HOME": str(run_dir / "home"),
            "USER": CI_USER if owner else os.environ.get("USER", ""),
            "LANG": "C.UTF-8",
            "TMPDIR": str(run_dir),
            "PYTHONPATH": str(run_dir / "plugins"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "ISABL_API_URL": f"{base}/api/v1/",
        }
        if args.client_id:
            client_env["ISABL_CLIENT_ID"] = args.client_id
        if args.trace:
            client_env["ISABL_CLI_TRACE"] = str(run_dir / "requests.jsonl")
        ids: dict[str, object] = {}
        if owner is not None:
            ids = {"user": owner[0], "group": owner[1], "extra_groups": []}
        suite_started = time.monotonic()
        with (out / "pytest.log").open("w") as sink:
            proc = subprocess.Popen(
                pytest_command(python, run_dir, args.pytest_args),
                cwd=run_dir / "suite",
                env=client_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                **ids,  # type: ignore[arg-type]
            )
            # A hung test must not hang make: the whole run is killed after --timeout.
            watchdog = threading.Timer(args.timeout, proc.kill)
            watchdog.start()
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                sink.write(line)
            rc = proc.wait()
            watchdog.cancel()
        if rc < 0:
            log(f"pytest killed (signal {-rc}); --timeout is {args.timeout:.0f}s")
        for name in ("junit.xml", "requests.jsonl"):
            if (run_dir / name).exists():
                shutil.copy(run_dir / name, out / name)
        log(f"suite ran in {time.monotonic() - suite_started:.1f}s, pytest exit {rc}")
    finally:
        if server is not None:
            stop(server)
        if rc != 0:
            log(f"server log tail ({server_log}):")
            print(tail(server_log), flush=True)
        if schema:
            asyncio.run(pg_schema("drop", schema))
        shutil.rmtree(tmp, ignore_errors=True)
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
