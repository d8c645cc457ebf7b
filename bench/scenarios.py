"""The scenarios, declared in one table.

Each names the route it needs (`requires`): a scenario whose route the app does not serve
yet, or whose data the generator does not make yet (`data`), is skipped with a note, so
the table can list the analyses and facility scenarios before those surfaces land.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.data import Dataset

Kind = Literal["read", "write", "single"]


@dataclass(frozen=True)
class Scenario:
    """One benchmarked request shape."""

    name: str
    title: str
    requires: str  # a route path of the app ("/api/v1/experiments")
    paths: Callable[[Dataset], list[str]]
    method: str = "GET"
    body: Callable[[Dataset], dict[str, Any]] | None = None
    kind: Kind = "read"
    # Expected status of every response.
    status: int = 200
    # Tables the generator must fill for the scenario (beyond the Isabl hierarchy).
    data: tuple[str, ...] = ()
    # Minimum req/s by scale name, from issue 8.
    targets: dict[str, float] = field(default_factory=dict)
    # Whether the query is indexed (its p99 should stay within 2x from 10k to 1M).
    indexed: bool = True
    # For writes: how many requests to send.
    requests: int = 0


EXPERIMENTS = "/api/v1/experiments"


def _list(query: str) -> Callable[[Dataset], list[str]]:
    return lambda d: [f"{EXPERIMENTS}?{query.format(d=d)}"]


def _three_filters(d: Dataset) -> list[str]:
    return [
        f"{EXPERIMENTS}?limit=100&projects={d.filter_project}"
        "&technique__method=WG&sample__category=TUMOR"
    ]


def _detail(d: Dataset) -> list[str]:
    return [f"{EXPERIMENTS}/{system_id}" for system_id in d.detail_ids]


def _new_experiment(d: Dataset) -> dict[str, Any]:
    # `{n}` is replaced by a request number in the wrk script: every body is new, down to
    # its individual, sample and aliquot (experiments written at once into one sample
    # would race for its next system id number, and all but one get a 409).
    center = d.write_sample["individual"]["center"]
    return {
        "identifier": "bench-write-{n}",
        "sample": {
            "identifier": "bench-write-{n}",
            "category": "TUMOR",
            "individual": {"identifier": "bench-write-{n}", "species": "HUMAN", "center": center},
        },
        "aliquot_id": "bench-write-{n}",
        "technique": {"pk": d.techniques.get("WG", 1)},
        "platform": {"pk": 1},
        "center": {"pk": 1},
        "projects": [{"pk": d.filter_project}],
        "raw_data": [{"file_url": "/data/bench-{n}.bam", "file_type": "BAM"}],
    }


SCENARIOS: tuple[Scenario, ...] = (
    # Unfiltered, the page is read by index but its exact `count` is a COUNT(*) of the
    # whole table, which grows with it (`count_limit` is the bounded form): not "indexed".
    Scenario(
        "experiments-list",
        "experiments, limit=100, nested",
        EXPERIMENTS,
        _list("limit=100"),
        targets={"100k": 45},
        indexed=False,
    ),
    Scenario(
        "experiments-3-filters",
        "experiments, limit=100, projects + technique__method + sample__category",
        EXPERIMENTS,
        _three_filters,
        targets={"100k": 27, "1m": 20},
    ),
    Scenario(
        "experiment-detail",
        "experiment detail by system_id",
        EXPERIMENTS,
        _detail,
        targets={"100k": 1000},
    ),
    Scenario(
        "experiment-get-or-create",
        "POST an existing nested experiment (get-or-create, 200)",
        EXPERIMENTS,
        lambda d: [EXPERIMENTS],
        method="POST",
        body=lambda d: d.existing_body,
    ),
    Scenario(
        "experiments-count",
        "experiments, limit=1 (the count)",
        EXPERIMENTS,
        _list("limit=1"),
        indexed=False,
    ),
    Scenario(
        "experiments-deep-offset",
        "experiments, limit=100, offset at 90% of the table",
        EXPERIMENTS,
        lambda d: [f"{EXPERIMENTS}?limit=100&offset={d.counts['experiment'] * 9 // 10}"],
        indexed=False,
    ),
    Scenario(
        "experiments-count-limit",
        "experiments, limit=100, count_limit=1000",
        EXPERIMENTS,
        _list("limit=100&count_limit=1000"),
    ),
    Scenario(
        "analyses-filter",
        "analyses, status__in + targets__pk__in",
        "/api/v1/analyses",
        lambda d: [
            "/api/v1/analyses?limit=100&status__in=SUCCEEDED,FAILED&targets__pk__in="
            + ",".join(str(pk) for pk in d.analysis_targets)
        ],
        data=("analysis",),
    ),
    Scenario(
        "substocks-list",
        "facility substocks, pg_size=50",
        "/api/substock",
        lambda d: ["/api/substock?pg_size=50"],
        data=("substock",),
        targets={"100k": 300},
        indexed=False,  # unfiltered: its exact count is a COUNT(*) of the active rows
    ),
    Scenario(
        "substocks-quick-search",
        "facility substocks, pg_size=50, quick-search combined lookup",
        "/api/substock",
        lambda d: [
            "/api/substock?pg_size=50&[id__exact,stock_id__exact,stock__local_stock_id__exact,"
            "name_gen__icontains,position__fullname__icontains]=145"
        ],
        data=("substock",),
        # `icontains` on names computed by subqueries (fishline and genotypes, room and
        # rack): evaluated for every substock, no index can serve it.
        indexed=False,
    ),
    Scenario(
        "substocks-detail",
        "facility substocks, pg_size=50&detail",
        "/api/substock",
        lambda d: ["/api/substock?pg_size=50&detail"],
        data=("substock",),
    ),
    Scenario(
        "substocks-all",
        "facility substocks, pg_size=0 over all (time, RSS growth < 150 MB)",
        "/api/substock",
        lambda d: ["/api/substock?pg_size=0"],
        kind="single",
        data=("substock",),
        indexed=False,
    ),
    Scenario(
        "experiments-write",
        "POST 1,000 new nested experiments",
        EXPERIMENTS,
        lambda d: [EXPERIMENTS],
        method="POST",
        body=_new_experiment,
        kind="write",
        status=201,
        requests=1000,
        indexed=False,
    ),
)

# Tables the generator fills (bench.data); scenarios needing others are skipped.
GENERATED = frozenset(
    {"experiment", "sample", "individual", "project", "technique", "analysis", "substock"}
)


def skip_reason(scenario: Scenario, routes: set[str]) -> str | None:
    """Why a scenario cannot run against this app and data, or None."""
    if scenario.requires not in routes:
        return f"the app serves no {scenario.requires} yet"
    missing = [table for table in scenario.data if table not in GENERATED]
    if missing:
        return f"bench.data generates no {', '.join(missing)} rows yet"
    return None


def body_text(scenario: Scenario, dataset: Dataset) -> str | None:
    """The request body as JSON text."""
    return json.dumps(scenario.body(dataset)) if scenario.body else None
