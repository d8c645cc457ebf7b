"""Running the server and the load: uvicorn on one core, wrk on the other, RSS sampled."""

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.data import Dataset
from bench.profile import record
from bench.scenarios import Scenario, body_text

HERE = Path(__file__).resolve().parent
WRK_SCRIPT = HERE / "wrk.lua"


def cores() -> tuple[str | None, str | None]:
    """`taskset` CPU lists for the server and for wrk (None: no pinning)."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return None, None
    return "0", "1"


def pinned(cpu: str | None, argv: list[str]) -> list[str]:
    """`argv` run on `cpu` when pinning is possible."""
    return ["taskset", "-c", cpu, *argv] if cpu is not None else argv


def free_port() -> int:
    """A TCP port nobody listens on now (other engineers run servers of their own)."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (kB), 0 when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """The peak resident set of a process while a block runs, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.start_kb, self.peak_kb = pid, rss_kb(pid), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))
            self._stop.wait(0.02)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, rss_kb(self.pid))


@dataclass
class Server:
    """A running labapi."""

    process: subprocess.Popen[bytes]
    base_url: str
    pid: int = 0

    def request(
        self, method: str, path: str, token: str, body: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request: status, headers (lower-cased), body."""
        request = urllib.request.Request(
            self.base_url + path,
            data=body.encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                return response.status, headers, response.read()
        except urllib.error.HTTPError as exc:
            headers = {k.lower(): v for k, v in exc.headers.items()}
            return exc.code, headers, exc.read()


def _ready(server: Server) -> bool:
    """Whether our process is up and answers; it may have died on a port in use while
    another server answers there, hence the second look at the process."""
    if server.process.poll() is not None:
        raise RuntimeError(f"labapi exited with {server.process.returncode}")
    try:
        with urllib.request.urlopen(server.base_url + "/healthz", timeout=2):
            pass
    except OSError:
        return False
    time.sleep(0.5)
    if server.process.poll() is not None:
        raise RuntimeError(f"labapi exited with {server.process.returncode}")
    return True


@contextmanager
def serve(url: str, port: int, cpu: str | None) -> Iterator[Server]:
    """uvicorn with one worker on `cpu`, on the benchmark database, query counts on."""
    env = {
        **os.environ,
        "LABAPI_DATABASE_URL": url,
        "LABAPI_DEBUG_QUERY_COUNT": "true",
        "LABAPI_SECRET_KEY": "bench-secret-key",
    }
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "labapi.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(pinned(cpu, argv), env=env)
    server = Server(process, f"http://127.0.0.1:{port}", pid=process.pid)
    try:
        deadline = time.monotonic() + 60
        while not _ready(server):
            if time.monotonic() > deadline:
                raise RuntimeError("labapi did not start")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Measurement:
    """What one scenario measured."""

    req_s: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    queries: int | None = None
    probe_status: int = 0
    probe_bytes: int = 0
    # Server CPU per request: what a core of its own would give (1000 / cpu_ms req/s),
    # whatever the other processes of the machine take meanwhile.
    cpu_ms: float = 0.0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    load_average: list[float] = field(default_factory=list)


def probe(server: Server, scenario: Scenario, dataset: Dataset) -> tuple[int, int | None, int]:
    """One request of the scenario: status, X-Query-Count, body size."""
    body = body_text(scenario, dataset)
    if body is not None:
        body = body.replace("{n}", f"probe-{time.time_ns()}")
    path = scenario.paths(dataset)[0]
    status, headers, content = server.request(scenario.method, path, dataset.token, body)
    count = headers.get("x-query-count")
    return status, int(count) if count is not None else None, len(content)


def run_wrk(
    server: Server,
    scenario: Scenario,
    dataset: Dataset,
    *,
    duration: float,
    cpu: str | None,
    connections: int = 16,
) -> dict[str, Any]:
    """wrk -t1 -c16 on the scenario; wrk's own summary (BENCH-JSON line)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = Path(tmp) / "paths.txt"
        paths.write_text("\n".join(scenario.paths(dataset)) + "\n")
        body_file = "-"
        text = body_text(scenario, dataset)
        if text is not None:
            body_file = str(Path(tmp) / "body.json")
            Path(body_file).write_text(text)
        # A write scenario runs until its budget of responses; the duration is a bound.
        seconds = max(1, int(duration)) if scenario.kind == "read" else 600
        argv = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            server.base_url,
            "--",
            dataset.token,
            str(paths),
            scenario.method,
            body_file,
            str(scenario.requests),
            f"{os.getpid()}-{time.time_ns()}",
        ]
        done = subprocess.run(pinned(cpu, argv), capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH-JSON "))
            return result
    raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")


def measure(
    server: Server,
    scenario: Scenario,
    dataset: Dataset,
    *,
    duration: float,
    cpu: str | None,
    writes: int | None = None,
    profile: Path | None = None,
) -> Measurement:
    """Probe, then load the server with the scenario while sampling its memory (and,
    given `profile`, its stacks into that file: `bench/profile.py`)."""
    m = Measurement()
    m.probe_status, m.queries, m.probe_bytes = probe(server, scenario, dataset)
    m.load_average = [round(x, 2) for x in os.getloadavg()]
    sampler = RssSampler(server.pid)
    m.rss_start_mb = sampler.start_kb / 1024
    cpu_before = cpu_seconds(server.pid)
    with sampler:
        if scenario.kind == "single":
            start = time.perf_counter()
            status, _, _ = server.request(
                scenario.method, scenario.paths(dataset)[0], dataset.token
            )
            elapsed = time.perf_counter() - start
            m.requests, m.req_s = 1, 1 / elapsed
            m.p50_ms = m.p90_ms = m.p99_ms = m.max_ms = elapsed * 1000
            m.errors = {"status": int(status != scenario.status)}
        else:
            if writes is not None and scenario.kind == "write":
                scenario = dataclasses.replace(scenario, requests=writes)
            spy = None
            if profile is not None and scenario.kind == "read":
                spy = record(server.pid, max(1, int(duration) - 1), profile)
            result = run_wrk(server, scenario, dataset, duration=duration, cpu=cpu)
            if spy is not None:
                spy.wait()
            m.requests = result["requests"]
            m.req_s = result["requests"] / (result["duration_us"] / 1e6)
            m.p50_ms = result["p50_us"] / 1000
            m.p90_ms = result["p90_us"] / 1000
            m.p99_ms = result["p99_us"] / 1000
            m.max_ms = result["max_us"] / 1000
            m.errors = result["errors"]
    m.rss_peak_mb = sampler.peak_kb / 1024
    m.cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / max(m.requests, 1)
    return m
