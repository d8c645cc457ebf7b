"""Reports: one JSON and one Markdown table per scale, a summary and a plot over scales."""

import json
from pathlib import Path
from typing import Any

from bench.data import SCALES, scale_name

ORDER = list(SCALES)


def verdict(row: dict[str, Any], scale: str) -> str:
    """`met` / `NOT met` against the scenario's target at this scale, or empty."""
    target = row.get("targets", {}).get(scale)
    if target is None or row["status"] != "ok":
        return ""
    return f"{'met' if row['req_s'] >= target else 'NOT met'} (≥ {target:g})"


def markdown(report: dict[str, Any]) -> str:
    """The Markdown table of one run."""
    scale = report["scale"]
    lines = [
        f"### {scale} experiments — commit `{report['commit']}`, {report['date']}",
        "",
        f"Load average before the run: {report['load_average_before']}; server pinned to "
        f"CPU {report['server_cpu']}, wrk to CPU {report['wrk_cpu']}, `wrk -t1 -c16 "
        f"-d{report['duration']}s`.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | SQL/req | server CPU ms/req | req/s per core"
        " | peak RSS MB | load avg | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in report["scenarios"]:
        if row["status"] != "ok":
            lines.append(f"| {row['name']} | skipped: {row['note']} | | | | | | | | |")
            continue
        errors = sum(row["errors"].values())
        note = f" ({errors} errors)" if errors else ""
        lines.append(
            f"| {row['name']}{note} | {row['req_s']:.1f} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['queries'] if row['queries'] is not None else '?'} | "
            f"{row['cpu_ms']:.1f} | {1000 / row['cpu_ms'] if row['cpu_ms'] else 0:.0f} | "
            f"{row['rss_peak_mb']:.0f} (+{row['rss_peak_mb'] - row['rss_start_mb']:.0f}) | "
            f"{row['load_average'][0]:.1f} | {verdict(row, scale)} |"
        )
    return "\n".join(lines) + "\n"


def load_reports(out: Path) -> list[dict[str, Any]]:
    """Every scale's report in `out`, smallest scale first."""
    reports = [json.loads(path.read_text()) for path in out.glob("report-*.json")]
    return sorted(reports, key=lambda r: SCALES.get(r["scale"], 0))


def summary(reports: list[dict[str, Any]]) -> str:
    """The tables of every scale, plus p99 growth of indexed scenarios."""
    parts = [markdown(report) for report in reports]
    if len(reports) >= 2:
        first, last = reports[0], reports[-1]
        lines = [
            f"### p99 growth from {first['scale']} to {last['scale']}",
            "",
            "| scenario | indexed | p99 ratio | within 2x |",
            "|---|---|---:|---|",
        ]
        before = {r["name"]: r for r in first["scenarios"] if r["status"] == "ok"}
        for row in last["scenarios"]:
            if row["status"] != "ok" or row["name"] not in before:
                continue
            indexed = "yes" if row["indexed"] else "no"
            if not row.get("requests") or not before[row["name"]].get("requests"):
                # No request finished in the window: there is no p99 to compare.
                lines.append(f"| {row['name']} | {indexed} | — | no request completed |")
                continue
            ratio = row["p99_ms"] / max(before[row["name"]]["p99_ms"], 1e-9)
            flag = ("yes" if ratio <= 2 else "NO") if row["indexed"] else "n/a"
            lines.append(f"| {row['name']} | {indexed} | {ratio:.2f} | {flag} |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def plot(reports: list[dict[str, Any]], path: Path) -> None:
    """p50 and p99 against scale, one panel per scenario that ran."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names: list[str] = []
    for report in reports:
        for row in report["scenarios"]:
            if row["status"] == "ok" and row["name"] not in names:
                names.append(row["name"])
    if not names:
        return
    columns = 3
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        xs, p50, p99 = [], [], []
        for report in reports:
            row = next((r for r in report["scenarios"] if r["name"] == name), None)
            if row is None or row["status"] != "ok":
                continue
            xs.append(SCALES.get(report["scale"], 0))
            p50.append(row["p50_ms"])
            p99.append(row["p99_ms"])
        ax.plot(xs, p50, "o-", label="p50")
        ax.plot(xs, p99, "s--", label="p99")
        ax.set_xscale("log")
        ax.set_xticks(xs, [scale_name(x) for x in xs])
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("ms")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle("labapi latency against scale (experiments), wrk -t1 -c16")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
