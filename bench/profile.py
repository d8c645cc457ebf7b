"""Where the server's CPU goes under load: py-spy samples it while wrk drives a scenario.

`python -m bench --profile` records each scenario (`py-spy record --format raw`, 100
samples a second, the server process only, idle frames left out) and writes
`profile-<scenario>-<scale>.txt`: the share of samples by package (a sample counts for the
package of its innermost frame) and by labapi function (inclusive), the figures that say
which layer a request's time is spent in. Time in C extensions (orjson, asyncpg's
protocol) counts for the Python frame that called them.
"""

import collections
import shutil
import subprocess
import sys
from pathlib import Path

SAMPLE_RATE = 100
# Packages by the path of a frame's file; the rest is the standard library.
PACKAGES = (
    "labapi",
    "sqlalchemy",
    "asyncpg",
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
    "orjson",
    "anyio",
    "httptools",
)


def executable() -> str | None:
    """py-spy beside this Python (the `bench` extra of the virtualenv), or on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def available() -> bool:
    """Whether py-spy is installed."""
    return executable() is not None


def record(pid: int, seconds: int, raw: Path) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds` into `raw` (collapsed stacks)."""
    argv = [executable() or "py-spy", "record", "--pid", str(pid), "--duration", str(seconds)]
    argv += ["--rate", str(SAMPLE_RATE), "--format", "raw", "--output", str(raw), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def package(frame: str) -> str:
    """The package of one collapsed frame, `function (path:line)`."""
    path = frame.rpartition("(")[2]
    for name in PACKAGES:
        if path.startswith(f"{name}/") or f"/{name}/" in path:
            return name
    return "stdlib and other"


def _function(frame: str) -> str:
    """`module.py:function` of a collapsed frame."""
    name, _, where = frame.partition(" (")
    return f"{where.rpartition('/')[2].split(':')[0]}:{name}"


def summarize(raw: Path, title: str, top: int = 25) -> str:
    """The text summary of one recording."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        total += n
        own[package(frames[-1])] += n
        # A function counts once per sample however deep it recurses.
        for name in {_function(f) for f in frames if package(f) == "labapi"}:
            inclusive[name] += n
    lines = [f"# {title}", f"{total} samples at {SAMPLE_RATE}/s (busy frames only)", ""]
    lines.append("## own time by package (innermost frame)")
    lines += [f"{n / max(total, 1) * 100:5.1f} %  {name}" for name, n in own.most_common()]
    lines += ["", "## labapi functions, inclusive"]
    lines += [f"{n / max(total, 1) * 100:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
