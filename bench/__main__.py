"""`python -m bench --scale 10k|100k|1m`: generate, serve, load, report."""

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg

from bench import profile, report
from bench.data import dsn, parse_scale, prepare, scale_name
from bench.drive import cores, free_port, measure, serve
from bench.scenarios import SCENARIOS, skip_reason

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/labapi_bench"
ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The commit measured (with `+dirty` when the tree has changes)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def app_routes() -> set[str]:
    """Every path of the app's OpenAPI document (without trailing slashes)."""
    from labapi.core.settings import Settings
    from labapi.main import create_app

    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    return {path.rstrip("/") for path in app.openapi()["paths"]}


async def cleanup(url: str) -> None:
    """Remove the experiments the write scenarios created: the data stays at its scale."""
    conn = await asyncpg.connect(dsn(url))
    try:
        for table in ("experiment", "aliquot", "sample", "individual"):
            await conn.execute(f"DELETE FROM {table} WHERE identifier LIKE 'bench-write-%'")
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at one scale."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", default="10k", help="10k, 100k, 1m (experiments)")
    parser.add_argument("--duration", type=float, default=15, help="seconds per scenario")
    parser.add_argument(
        "--writes", type=int, default=None, help="requests of the write scenario (1000)"
    )
    parser.add_argument("--only", action="append", help="run only these scenarios")
    parser.add_argument("--regenerate", action="store_true", help="reload the data")
    parser.add_argument(
        "--profile", action="store_true", help="sample the server with py-spy per scenario"
    )
    parser.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--database-url", default=os.environ.get("LABAPI_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args(argv)
    # A terminated run still stops its server (the `serve` block's finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.profile and not profile.available():
        print("py-spy is missing: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk (make bench installs it)", file=sys.stderr)
        return 2
    scale = parse_scale(args.scale)
    name = scale_name(scale)
    dataset = asyncio.run(prepare(args.database_url, scale, regenerate=args.regenerate))
    routes = app_routes()
    server_cpu, wrk_cpu = cores()
    result = {
        "scale": name,
        "experiments": dataset.counts.get("experiment", scale),
        "counts": dataset.counts,
        "commit": commit(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "server_cpu": server_cpu,
        "wrk_cpu": wrk_cpu,
        "duration": args.duration,
        "scenarios": [],
    }
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    with serve(args.database_url, args.port or free_port(), server_cpu) as server:
        for scenario in chosen:
            row = {
                "name": scenario.name,
                "title": scenario.title,
                "targets": scenario.targets,
                "indexed": scenario.indexed,
            }
            reason = skip_reason(scenario, routes)
            if reason is not None:
                print(f"- {scenario.name}: skipped ({reason})", file=sys.stderr)
                result["scenarios"].append({**row, "status": "skipped", "note": reason})
                continue
            print(f"- {scenario.name}: running", file=sys.stderr, flush=True)
            raw = args.out / f"profile-{scenario.name}-{name}.raw" if args.profile else None
            m = measure(
                server,
                scenario,
                dataset,
                duration=args.duration,
                cpu=wrk_cpu,
                writes=args.writes,
                profile=raw,
            )
            if raw is not None and raw.exists():
                title = f"{scenario.title}, {name} experiments, commit {result['commit']}"
                raw.with_suffix(".txt").write_text(profile.summarize(raw, title))
                raw.unlink()
            status = "ok" if m.probe_status == scenario.status else "failed"
            row |= {"status": status, **dataclasses.asdict(m)}
            if status != "ok":
                row["note"] = f"probe answered {m.probe_status}, expected {scenario.status}"
            print(
                f"  {m.req_s:8.1f} req/s  p50 {m.p50_ms:7.1f} ms  p99 {m.p99_ms:7.1f} ms"
                f"  {m.queries} SQL/req  {m.cpu_ms:.1f} CPU ms/req  RSS {m.rss_peak_mb:.0f} MB"
                f"  load {m.load_average[0]}",
                file=sys.stderr,
            )
            result["scenarios"].append(row)
    asyncio.run(cleanup(args.database_url))
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / f"report-{name}.json"
    if args.only and previous.exists():
        # A partial run replaces its scenarios in the scale's report, keeping the others.
        ran = {row["name"]: row for row in result["scenarios"]}
        kept = json.loads(previous.read_text())["scenarios"]
        result["scenarios"] = [ran.pop(row["name"], row) for row in kept] + list(ran.values())
    (args.out / f"report-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"report-{name}.md").write_text(report.markdown(result))
    reports = report.load_reports(args.out)
    (args.out / "summary.md").write_text(report.summary(reports))
    report.plot(reports, args.out / "latency.png")
    print(report.markdown(result))
    print(f"reports in {args.out}", file=sys.stderr)
    return 0 if all(r["status"] != "failed" for r in result["scenarios"]) else 1


if __name__ == "__main__":
    sys.exit(main())
