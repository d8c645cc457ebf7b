"""Applications, analyses, signals, clients and custom fields through HTTP: get-or-create
keys, the analysis status life-cycle, bulk updates, custom field validation, list filters,
representations, and the extra endpoints (tree, system id redirect, send_email, warmup)."""

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import OutboxMessage, User
from labapi.isabl.models import (
    Analysis,
    AnalysisStatus,
    Application,
    Assembly,
    Experiment,
    Individual,
    Project,
)
from tests.conftest import client_as, make_user
from tests.isabl.cases import NOT_FOUND, PREFIX, assert_problem, pks
from tests.isabl.conftest import SEEDED_CLIENT
from tests.isabl.factories import (
    make_aliquot,
    make_analysis,
    make_application,
    make_assembly,
    make_custom_field,
    make_disease,
    make_experiment,
    make_individual,
    make_platform,
    make_project,
    make_sample,
    make_signal,
    make_tag,
)
from tests.isabl.test_hierarchy import counting, created, post

MSK = {"name": "Memorial Sloan Kettering", "acronym": "MSK"}
PATIENT = {"identifier": "PATIENT-1", "species": "HUMAN", "center": MSK}
GRCH37 = {"name": "GRCh37", "species": "HUMAN"}
BWA = {"name": "BWA", "version": "0.7.17"}


async def patched(client: httpx.AsyncClient, resource: str, pk: int, **body: Any) -> Any:
    """PATCH an object; its new representation."""
    response = await client.patch(f"{PREFIX}/{resource}/{pk}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def when(value: str | None) -> dt.datetime | None:
    """A rendered datetime."""
    return None if value is None else dt.datetime.fromisoformat(value)


# SQLite's julianday() keeps milliseconds: SQL-computed minutes are that close.
MILLISECOND = 1 / 60000


def minutes(start: str, end: str) -> float:
    """Minutes between two rendered datetimes."""
    started, ended = when(start), when(end)
    assert started is not None
    assert ended is not None
    return (ended - started).total_seconds() / 60


async def full_experiment(session: AsyncSession, n: int) -> Experiment:
    """An experiment whose every relation is set (aliquot, platform, projects, disease…)."""
    sample = await make_sample(session, disease=await make_disease(session))
    tag = await make_tag(session, name=f"experiment tag {n}")
    return await make_experiment(
        session,
        sample=sample,
        aliquot=await make_aliquot(session, sample=sample),
        platform=await make_platform(session),
        projects=[await make_project(session)],
        tags=[tag],
        bam_files={"GRCh37": {"url": f"/bams/{n}.bam"}},
    )


# ------------------------------------------------------------------ get or create
# (resource, first body, second body, whether the second finds the first)
KEYS: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("applications", BWA, BWA, True),
    ("applications", BWA, BWA | {"assembly": None}, True),
    ("applications", BWA | {"assembly": GRCH37}, BWA | {"assembly": GRCH37}, True),
    ("applications", BWA, BWA | {"assembly": GRCH37}, False),
    ("applications", BWA, BWA | {"version": "0.7.18"}, False),
    (
        "signals",
        {"import_string": "a.b", "target_endpoint": "analyses", "target_id": 1},
        {"import_string": "a.b", "target_endpoint": "analyses", "target_id": 1},
        True,
    ),
    (
        "signals",
        {"import_string": "a.b", "target_endpoint": "analyses", "target_id": 1},
        {"import_string": "a.b", "target_endpoint": "experiments", "target_id": 1},
        False,
    ),
    ("clients", {"slug": "cli"}, {"slug": "cli", "settings": {"x": 1}}, True),
    ("clients", {"slug": "cli"}, {"slug": "cli-2"}, False),
    (
        "custom_fields",
        {"model": "isabl_api.Sample", "field_name": "source", "configuration": {"type": "string"}},
        {"model": "Sample", "field_name": "source", "configuration": {"type": "integer"}},
        True,
    ),
    (
        "custom_fields",
        {"model": "isabl_api.Sample", "field_name": "source", "configuration": {"type": "string"}},
        {"model": "individual", "field_name": "source", "configuration": {"type": "string"}},
        False,
    ),
]


class TestGetOrCreate:
    @pytest.mark.parametrize(("resource", "first", "second", "same"), KEYS)
    async def test_keys(
        self,
        client: httpx.AsyncClient,
        resource: str,
        first: dict[str, Any],
        second: dict[str, Any],
        same: bool,
    ) -> None:
        one = await created(client, resource, first)
        two = await post(client, resource, second)
        assert two.status_code == (200 if same else 201), two.text
        assert (two.json()["pk"] == one["pk"]) is same
        if same:
            assert two.json() == one

    async def test_application_nests_its_assembly_by_key_or_pk(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        assembly = await make_assembly(session, name="GRCh38")
        by_pk = await created(client, "applications", BWA | {"assembly": {"pk": assembly.id}})
        by_key = await post(
            client, "applications", BWA | {"assembly": {"name": "GRCh38"} | {"species": "HUMAN"}}
        )
        assert by_key.status_code == 200, by_key.text
        assert by_pk["assembly"]["pk"] == by_key.json()["assembly"]["pk"] == assembly.id
        count = await session.scalar(select(Assembly.id).where(Assembly.name == "GRCh38"))
        assert count == assembly.id

    async def test_analysis_without_a_level_is_always_new(self, client: httpx.AsyncClient) -> None:
        first = await created(client, "analyses", {"application": BWA})
        second = await created(client, "analyses", {"application": BWA})
        assert first["pk"] != second["pk"]
        assert first["application"]["pk"] == second["application"]["pk"]

    @pytest.mark.parametrize("level", ["project_level_analysis", "individual_level_analysis"])
    async def test_analysis_with_a_level_is_found_by_level_and_application(
        self, client: httpx.AsyncClient, session: AsyncSession, level: str
    ) -> None:
        target = (
            await make_project(session)
            if level == "project_level_analysis"
            else await make_individual(session)
        )
        body = {"application": BWA, level: {"pk": target.id}}
        first = await created(client, "analyses", body)
        again = await post(client, "analyses", body | {"status": "FAILED", "notes": "x"})
        assert again.status_code == 200, again.text
        assert again.json() == first
        other_app = await post(client, "analyses", body | {"application": BWA | {"version": "2"}})
        assert other_app.status_code == 201
        assert first[level]["pk"] == target.id

    async def test_merge_analysis_with_a_new_project_body(self, client: httpx.AsyncClient) -> None:
        # isabl_cli posts `project_level_analysis=ProjectFactory()`: a project has no key.
        body = {"application": BWA, "project_level_analysis": {"title": "Merge"}}
        first = await created(client, "analyses", body)
        second = await created(client, "analyses", body)
        assert first["project_level_analysis"]["pk"] != second["project_level_analysis"]["pk"]

    async def test_analysis_nests_experiments_and_linked_analyses(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        experiment = await make_experiment(session)
        linked = await make_analysis(session)
        body = {
            "application": BWA | {"assembly": GRCH37},
            "targets": [{"pk": experiment.id}],
            "references": [
                {
                    "identifier": "REF-1",
                    "sample": {"identifier": "N1", "category": "NORMAL", "individual": PATIENT},
                    "technique": {"method": "WG", "name": "Whole Genome"},
                }
            ],
            "analyses": [linked.id, {"pk": linked.id}],
        }
        analysis = await created(client, "analyses", body)
        assert [target["pk"] for target in analysis["targets"]] == [experiment.id]
        assert (
            analysis["targets"][0]["sample"]["individual"]["pk"] == experiment.sample.individual_id
        )
        assert analysis["references"][0]["identifier"] == "REF-1"
        assert analysis["analyses"] == [linked.id]
        assert analysis["application"]["assembly"]["name"] == "GRCh37"
        response = await post(client, "analyses", {"application": BWA, "analyses": [987654]})
        assert_problem(response, 400, locs=[["body", "analyses", 0, "pk"]])

    async def test_seeded_client_is_readable_by_slug(
        self, isabl_app: FastAPI, session: AsyncSession, superuser: User
    ) -> None:
        async with client_as(isabl_app, session, superuser) as client:
            response = await client.get(f"{PREFIX}/clients/{SEEDED_CLIENT}")
            assert response.status_code == 200, response.text
            assert response.json()["settings"] == {}
            assert response.json()["slug"] == SEEDED_CLIENT
            body = await patched(client, "clients", response.json()["pk"], settings={"A": [1]})
            assert body["settings"] == {"A": [1]}


# ------------------------------------------------------------------- life-cycle
class TestStatusLifeCycle:
    async def test_each_status_stamps_its_fields(self, client: httpx.AsyncClient) -> None:
        created_ = await created(client, "analyses", {"application": BWA})
        pk = created_["pk"]
        assert (created_["status"], created_["previous_status"]) == ("CREATED", None)
        assert [created_[k] for k in ("submitted", "started", "finished")] == [None] * 3

        submitted = await patched(client, "analyses", pk, status="SUBMITTED")
        assert submitted["previous_status"] == "CREATED"
        assert submitted["submitted"] is not None
        assert (submitted["started"], submitted["finished"], submitted["wait_time"]) == (None,) * 3

        started = await patched(client, "analyses", pk, status="STARTED", ran_by="admin")
        assert (started["previous_status"], started["ran_by"]) == ("SUBMITTED", "admin")
        assert started["submitted"] == submitted["submitted"]
        assert started["wait_time"] == pytest.approx(
            minutes(started["submitted"], started["started"])
        )
        assert started["finished"] is None

        same = await patched(client, "analyses", pk, status="STARTED")
        assert (same["previous_status"], same["started"]) == ("SUBMITTED", started["started"])

        succeeded = await patched(client, "analyses", pk, status="SUCCEEDED")
        assert succeeded["previous_status"] == "STARTED"
        assert succeeded["run_time"] == pytest.approx(
            minutes(succeeded["started"], succeeded["finished"])
        )
        assert when(succeeded["finished"]) >= when(succeeded["started"])  # type: ignore[operator]

        again = await patched(client, "analyses", pk, status="SUBMITTED")
        assert when(again["submitted"]) >= when(succeeded["finished"])  # type: ignore[operator]
        assert [again[k] for k in ("started", "finished", "wait_time", "run_time")] == [None] * 4
        assert again["previous_status"] == "SUCCEEDED"

        rejected = await patched(client, "analyses", pk, status="REJECTED")
        assert (rejected["status"], rejected["previous_status"]) == ("REJECTED", "SUBMITTED")
        response = await client.patch(f"{PREFIX}/analyses/{pk}", json={"status": "LOST"})
        assert_problem(response, 400, locs=[["body", "status"]])

    async def test_stamps_are_read_only(self, client: httpx.AsyncClient) -> None:
        body = await created(
            client, "analyses", {"application": BWA, "submitted": "2001-01-01T00:00:00Z"}
        )
        assert body["submitted"] is None
        result = await patched(client, "analyses", body["pk"], run_time=5, previous_status="X")
        assert (result["run_time"], result["previous_status"]) == (None, None)

    async def test_created_in_a_status_starts_there(self, client: httpx.AsyncClient) -> None:
        body = await created(client, "analyses", {"application": BWA, "status": "SUBMITTED"})
        assert (body["status"], body["previous_status"]) == ("SUBMITTED", None)
        assert body["submitted"] is not None


class TestBulkUpdate:
    async def test_one_statement_sets_status_ran_by_and_stamps(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        started = await created(client, "analyses", {"application": BWA, "status": "SUBMITTED"})
        started = await patched(client, "analyses", started["pk"], status="STARTED")
        staged = await created(client, "analyses", {"application": BWA})
        untouched = await created(client, "analyses", {"application": BWA})
        ids = [started["pk"], staged["pk"]]
        for slash in ("", "/"):
            with counting(session) as statements:
                response = await client.patch(
                    f"{PREFIX}/analyses/bulk_update{slash}",
                    json={"ids": ids, "status": "STAGED", "ran_by": "runner"},
                )
            assert response.status_code == 200, response.text
            assert response.json()["count"] == 2
            updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
            assert len(updates) == 1, updates
        after = {pk: (await client.get(f"{PREFIX}/analyses/{pk}")).json() for pk in ids}
        first = after[started["pk"]]
        assert (first["status"], first["ran_by"]) == ("STAGED", "runner")
        assert first["finished"] is not None
        assert first["run_time"] == pytest.approx(
            minutes(first["started"], first["finished"]), abs=2 * MILLISECOND
        )
        # The second call found it STAGED already: the previous status stays STARTED.
        assert first["previous_status"] == "STARTED"
        assert after[staged["pk"]]["previous_status"] == "CREATED"
        assert after[staged["pk"]]["finished"] is None

        response = await client.patch(
            f"{PREFIX}/analyses/bulk_update",
            data={"ids": [str(pk) for pk in ids], "status": "SUBMITTED", "ran_by": "runner"},
        )
        assert response.status_code == 200, response.text
        listed = await client.get(f"{PREFIX}/analyses", params={"pk__in": f"{ids[0]},{ids[1]}"})
        results = listed.json()["results"]
        assert {item["status"] for item in results} == {"SUBMITTED"}
        assert len({item["submitted"] for item in results}) == 1  # the same stamp
        assert [item["started"] for item in results] == [None, None]
        assert [item["run_time"] for item in results] == [None, None]
        kept = (await client.get(f"{PREFIX}/analyses/{untouched['pk']}")).json()
        assert kept == untouched

    async def test_bad_bodies_are_400s(self, client: httpx.AsyncClient) -> None:
        url = f"{PREFIX}/analyses/bulk_update"
        cases = [
            ({"ids": [1], "status": "SUCCEEDED", "ran_by": "x"}, [["body", "status"]]),
            ({"ids": ["a"], "status": "STAGED", "ran_by": "x"}, [["body", "ids", 0]]),
            ({"ids": [1], "status": "STAGED", "ran_by": ""}, [["body", "ran_by"]]),
            ({}, [["body", "ids"], ["body", "status"], ["body", "ran_by"]]),
        ]
        for body, locs in cases:
            assert_problem(await client.patch(url, json=body), 400, locs=locs)

    async def test_needs_change_analysis(self, isabl_app: FastAPI, session: AsyncSession) -> None:
        analysis = await make_analysis(session)
        body = {"ids": [analysis.id], "status": "STAGED", "ran_by": "x"}
        reader = await make_user(session, "reader")
        async with client_as(isabl_app, session, reader) as client:
            response = await client.patch(f"{PREFIX}/analyses/bulk_update", json=body)
            assert "isabl.change_analysis" in assert_problem(response, 403)["detail"]
        changer = await make_user(session, "changer", permissions=("isabl.change_analysis",))
        async with client_as(isabl_app, session, changer) as client:
            response = await client.patch(f"{PREFIX}/analyses/bulk_update", json=body)
            assert response.status_code == 200, response.text


# ---------------------------------------------------------------- custom fields
class TestCustomFields:
    async def test_values_are_checked_against_definitions(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_custom_field(session, field_name="age", configuration={"type": "integer"})
        await make_custom_field(
            session, field_name="site", configuration={"type": "string", "choices": ["a", "b"]}
        )
        await make_custom_field(
            session, model="isabl_api.Sample", field_name="pdx", configuration={"type": "boolean"}
        )
        bad = await post(
            client,
            "individuals",
            PATIENT | {"custom_fields": {"age": "old", "site": "c", "free": [1]}},
        )
        problem = assert_problem(bad, 400)
        assert sorted(e["loc"] for e in problem["errors"]) == [
            ["body", "custom_fields", "age"],
            ["body", "custom_fields", "site"],
        ]
        nested = await post(
            client,
            "samples",
            {
                "identifier": "S1",
                "category": "TUMOR",
                "custom_fields": {"pdx": "yes"},
                "individual": PATIENT | {"custom_fields": {"age": True}},
            },
        )
        problem = assert_problem(nested, 400)
        assert problem["errors"][0]["loc"] == ["body", "individual", "custom_fields", "age"]
        ok = await created(
            client, "individuals", PATIENT | {"custom_fields": {"age": 7, "site": "a", "x": 1}}
        )
        response = await client.patch(
            f"{PREFIX}/individuals/{ok['pk']}", json={"custom_fields": {"age": 1.5}}
        )
        assert_problem(response, 400, locs=[["body", "custom_fields", "age"]])
        # A definition of another model does not apply; null always fits.
        other = await patched(
            client, "individuals", ok["pk"], custom_fields={"pdx": "any", "age": None}
        )
        assert other["custom_fields"] == {"pdx": "any", "age": None}

    async def test_definition_needs_a_model_with_custom_fields_and_a_type(
        self, client: httpx.AsyncClient
    ) -> None:
        base = {"field_name": "f", "configuration": {"type": "string"}}
        response = await post(client, "custom_fields", base | {"model": "isabl_api.Nothing"})
        assert_problem(response, 400, locs=[["body", "model"]])
        response = await post(
            client, "custom_fields", base | {"model": "Sample", "configuration": {"type": "x"}}
        )
        assert_problem(response, 400, locs=[["body", "configuration", "type"]])
        response = await post(client, "custom_fields", base | {"model": "S", "field_name": "A"})
        assert_problem(response, 400, locs=[["body", "field_name"]])
        body = await created(client, "custom_fields", base | {"model": "experiment"})
        assert body["model"] == "isabl_api.Experiment"
        assert body["configuration"] == {"type": "string"}

    async def test_filters_look_inside_custom_fields(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        young = await make_individual(session, custom_fields={"age": 7, "site": "alpha"})
        old = await make_individual(session, custom_fields={"age": 70, "site": "beta"})
        bare = await make_individual(session)
        cases = [
            ({"custom_fields__age": "7"}, [young.id]),
            ({"custom_fields__age__gte": "10"}, [old.id]),
            ({"custom_fields__site__icontains": "ALP"}, [young.id]),
            ({"custom_fields__age__isnull": "true"}, [bare.id]),
            ({"custom_fields__has_key": "site"}, [young.id, old.id]),
            ({"custom_fields__site!": "alpha"}, [old.id, bare.id]),
        ]
        for params, expected in cases:
            assert pks(await client.get(f"{PREFIX}/individuals", params=params)) == expected


# ------------------------------------------------------------------ list filters
class TestAnalysisFilters:
    async def test_reference_filters(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        target, reference = await full_experiment(session, 1), await full_experiment(session, 2)
        other_target = await full_experiment(session, 3)
        app = await make_application(session, name="Mutect", version="2", description="calls")
        other_app = await make_application(session, name="Strelka", version="1")
        individual = await session.get(Individual, target.sample.individual_id)
        first = await make_analysis(
            session,
            application=app,
            targets=[target],
            references=[reference],
            status=AnalysisStatus.SUCCEEDED,
            individual_level_analysis=individual,
            submitted=dt.datetime(2020, 5, 4, 3, 2, 1, tzinfo=dt.UTC),
        )
        second = await make_analysis(
            session, application=other_app, targets=[other_target], status=AnalysisStatus.FAILED
        )
        project = target.projects[0].id
        cases: list[tuple[dict[str, str], list[int]]] = [
            ({"projects": str(project)}, [first.id]),
            ({"projects!": str(project)}, [second.id]),
            (
                {"projects__pk__in": f"{project},{other_target.projects[0].id}"},
                [first.id, second.id],
            ),
            ({"name": "Mutect"}, [first.id]),
            ({"name__icontains": "strel"}, [second.id]),
            ({"version": "2"}, [first.id]),
            ({"description": "calls"}, [first.id]),
            ({"targets": str(target.id)}, [first.id]),
            ({"targets__pk__in": f"{target.id},{other_target.id}"}, [first.id, second.id]),
            ({"references": str(reference.id)}, [first.id]),
            ({"references__isnull": "true"}, [second.id]),
            ({"application": str(other_app.id)}, [second.id]),
            ({"application__pk": str(app.id)}, [first.id]),
            ({"status__in": "SUCCEEDED,STARTED"}, [first.id]),
            ({"status__in!": "SUCCEEDED,STARTED"}, [second.id]),
            ({"submitted__date": "2020-05-04"}, [first.id]),
            ({"submitted__year__gte": "2020"}, [first.id]),
            ({"submitted__isnull": "True"}, [second.id]),
            ({"submitted": "2020-05-04T03:02:01Z"}, [first.id]),
            ({"targets__sample__individual__pk": str(individual.id)}, [first.id]),  # type: ignore[union-attr]
            ({"individual_level_analysis__pk__in": str(individual.id)}, [first.id]),  # type: ignore[union-attr]
            ({"indivpkual_level_analysis": str(individual.id)}, [first.id]),  # type: ignore[union-attr]
            ({"project_level_analysis__isnull": "true"}, [first.id, second.id]),
            ({"search": "mutect"}, [first.id]),
            ({"ordering": "-application__name"}, [second.id, first.id]),
        ]
        for params, expected in cases:
            response = await client.get(f"{PREFIX}/analyses", params=params)
            assert pks(response) == expected, params
        response = await client.get(f"{PREFIX}/analyses", params={"status": "LOST"})
        assert_problem(response, 400, locs=[["query", "status"]])

    async def test_experiment_and_signal_filters(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        with_bam, other = await full_experiment(session, 1), await make_experiment(session)
        running = await make_analysis(
            session, targets=[with_bam], references=[other], status=AnalysisStatus.IN_PROGRESS
        )
        await make_analysis(session, targets=[other], status=AnalysisStatus.FAILED)
        failed = await make_signal(session, data={"failure_traceback": "boom"})
        await make_signal(session, import_string="isabl_cli.signals.force_analysis_signal")
        cases: list[tuple[str, dict[str, str], list[int]]] = [
            ("experiments", {"has_bam_for": "GRCh37"}, [with_bam.id]),
            ("experiments", {"has_bam_for!": "GRCh37"}, [other.id]),
            ("experiments", {"has_bam_for": "GRCh38"}, []),
            ("experiments", {"analyses_as_target": str(running.id)}, [with_bam.id]),
            ("experiments", {"analyses_as_reference": str(running.id)}, [other.id]),
            ("experiments", {"results": str(running.id)}, [with_bam.id]),
            ("experiments", {"results__isnull": "true"}, [other.id]),
            ("signals", {"data__failure_traceback__isnull": "False"}, [failed.id]),
            (
                "signals",
                {"import_string__in": "x,isabl_cli.signals.force_analysis_signal"},
                [failed.id + 1],
            ),
            ("signals", {"target_endpoint": "analyses", "pk__gt": "0"}, [failed.id, failed.id + 1]),
        ]
        for resource, params, expected in cases:
            response = await client.get(f"{PREFIX}/{resource}", params=params)
            assert pks(response) == expected, (resource, params)


# --------------------------------------------------------------- representations
ANALYSIS_KEYS = {
    "pk", "uuid", "model_name", "created", "modified", "created_by", "tags", "notes",
    "custom_fields", "data", "storage_url", "storage_usage", "application", "status",
    "previous_status", "submitted", "started", "finished", "wait_time", "run_time", "ran_by",
    "results", "targets", "references", "analyses", "project_level_analysis",
    "individual_level_analysis",
}  # fmt: skip


class TestRepresentations:
    async def test_every_key_is_present_and_objects_are_never_null(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        analysis = await created(client, "analyses", {"application": BWA, "results": None})
        assert set(analysis) == ANALYSIS_KEYS
        assert analysis["model_name"] == "Analysis"
        assert (analysis["results"], analysis["custom_fields"], analysis["data"]) == ({}, {}, {})
        assert (analysis["targets"], analysis["references"], analysis["analyses"]) == ([], [], [])
        assert analysis["project_level_analysis"] is None
        application = analysis["application"]
        assert application["model_name"] == "Application"
        assert (application["assembly"], application["results"], application["settings"]) == (
            None,
            {},
            {},
        )
        signal = await created(
            client,
            "signals",
            {"import_string": "a.b", "target_endpoint": "analyses", "target_id": 3},
        )
        assert signal["slug"] == "analyses-3-a-b"
        assert signal["model_name"] == "Signal"
        client_ = await created(client, "clients", {"slug": "c", "settings": None})
        assert (client_["settings"], client_["model_name"]) == ({}, "Client")
        field = await created(
            client,
            "custom_fields",
            {"model": "Sample", "field_name": "f", "configuration": {"type": "array"}},
        )
        assert (field["model_name"], field["verbose_name"]) == ("CustomField", None)

    async def test_experiment_results_are_its_finished_analyses(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        experiment, reference = await full_experiment(session, 1), await make_experiment(session)
        assembly = await make_assembly(session, name="GRCh37")
        application = await make_application(session, assembly=assembly)
        linked = await make_analysis(session)
        results = []
        for status in AnalysisStatus:
            results.append(
                await make_analysis(
                    session,
                    application=application,
                    targets=[experiment],
                    references=[reference],
                    analyses=[linked],
                    status=status,
                    results={"vcf": "/x.vcf"},
                    storage_url="/analyses/1",
                )
            )
        await make_analysis(session, references=[experiment], status=AnalysisStatus.SUCCEEDED)
        body = (await client.get(f"{PREFIX}/experiments/{experiment.id}")).json()
        shown = [r for r in results if r.status in ("SUCCEEDED", "IN_PROGRESS")]
        assert body["results"] == [
            {
                "pk": analysis.id,
                "status": str(analysis.status),
                "results": {"vcf": "/x.vcf"},
                "storage_url": "/analyses/1",
                "run_time": None,
                "wait_time": None,
                "application": {
                    "pk": application.id,
                    "name": application.name,
                    "version": application.version,
                    "assembly": "GRCh37",
                },
                "targets": [{"pk": experiment.id, "system_id": experiment.system_id}],
                "references": [{"pk": reference.id, "system_id": reference.system_id}],
                "analyses": [linked.id],
            }
            for analysis in shown
        ]
        listed = await client.get(f"{PREFIX}/experiments", params={"pk": experiment.id})
        assert listed.json()["results"] == [body]

    async def test_a_linked_analysis_that_is_also_a_result_renders_after_a_write(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        # isabl_cli's test_get_dependencies: once the linking analysis succeeds, both are
        # results of their target, one linking the other. The link (pk only) must not reset
        # the linked result's application.
        experiment = await make_experiment(session)
        application = await make_application(session)
        first = await make_analysis(
            session, application=application, targets=[experiment], status=AnalysisStatus.SUCCEEDED
        )
        second = await make_analysis(session, targets=[experiment], analyses=[first])
        for body in ({"status": "SUCCEEDED"}, {"notes": "again"}):
            analysis = await patched(client, "analyses", second.id, **body)
            assert analysis["analyses"] == [first.id]
            results = analysis["targets"][0]["results"]
            assert [(r["pk"], r["application"]["pk"], r["analyses"]) for r in results] == [
                (first.id, application.id, []),
                (second.id, second.application_id, [first.id]),
            ]
        listed = await client.get(f"{PREFIX}/analyses", params={"pk": second.id})
        assert listed.json()["results"][0]["targets"][0]["results"] == results

    async def test_linked_analyses_show_at_most_50_pks(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        application = await make_application(session)
        linked = [
            Analysis(application=application, tags=[], targets=[], references=[], analyses=[])
            for _ in range(55)
        ]
        session.add_all(linked)
        await session.flush()
        body = await created(
            client, "analyses", {"application": BWA, "analyses": [a.id for a in linked]}
        )
        assert body["analyses"] == [a.id for a in linked[:50]]
        stored = await session.get(Analysis, body["pk"])
        await session.refresh(stored, ["analyses"])
        assert len(stored.analyses) == 55  # type: ignore[union-attr]

    @pytest.mark.parametrize("resource", ["experiments", "analyses"])
    async def test_a_list_page_costs_the_same_for_1_and_50_rows(
        self, client: httpx.AsyncClient, session: AsyncSession, resource: str, backend: str
    ) -> None:
        assembly = await make_assembly(session)
        application = await make_application(
            session, assembly=assembly, tags=[await make_tag(session)]
        )
        previous = await make_analysis(session)
        for n in range(50):
            target, reference = await full_experiment(session, n), await make_experiment(session)
            individual = await session.get(Individual, target.sample.individual_id)
            previous = await make_analysis(
                session,
                application=application,
                targets=[target],
                references=[reference],
                analyses=[previous],
                individual_level_analysis=individual,
                project_level_analysis=await make_project(session),
                status=AnalysisStatus.SUCCEEDED,
                tags=[await make_tag(session)],
            )
        # Every analysis of the page (and every experiment's) has each relation set.
        params = {"application": application.id} if resource == "analyses" else {}
        counts = {}
        for limit in (1, 50):
            session.expunge_all()  # nothing already loaded: every relation is read
            with counting(session) as statements:
                response = await client.get(
                    f"{PREFIX}/{resource}", params=params | {"limit": limit}
                )
            assert len(response.json()["results"]) == limit, response.text
            counts[limit] = len(statements)
        assert counts[1] == counts[50], counts
        if backend == "postgresql":  # the key's user, the count, the pks, the projection
            assert counts[1] <= 6, counts
        else:  # the nested relations were loaded, in a few queries each
            assert counts[1] > 10, counts


# ------------------------------------------------------------------ extra routes
class TestTree:
    async def test_individual_with_samples_with_experiments(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        individual = await make_individual(session)
        tumor = await make_sample(session, individual=individual)
        normal = await make_sample(session, individual=individual, category="NORMAL")
        runs = [await make_experiment(session, sample=tumor) for _ in range(2)]
        other = await make_individual(session)
        for slash in ("", "/"):
            response = await client.get(f"{PREFIX}/individuals/tree/{individual.id}{slash}")
            assert response.status_code == 200, response.text
            tree = response.json()
            assert tree["pk"] == individual.id
            assert [s["pk"] for s in tree["sample_set"]] == [tumor.id, normal.id]
            assert [e["pk"] for e in tree["sample_set"][0]["experiment_set"]] == [
                r.id for r in runs
            ]
            assert tree["sample_set"][1]["experiment_set"] == []
            assert "individual" not in tree["sample_set"][0]
            assert "sample" not in tree["sample_set"][0]["experiment_set"][0]
            assert tree["sample_set"][0]["experiment_set"][0]["technique"]["method"] == "WG"
            assert tree["center"]["pk"] == individual.center_id
        by_system_id = await client.get(f"{PREFIX}/individuals/tree/{individual.system_id}")
        assert by_system_id.json() == tree
        for slash in ("", "/"):
            listed = await client.get(
                f"{PREFIX}/individuals/tree{slash}",
                params={"pk__in": f"{individual.id},{other.id}"},
            )
            assert listed.json()["count"] == 2
            assert listed.json()["results"] == [tree, listed.json()["results"][1]]
            assert listed.json()["results"][1]["sample_set"] == []
        filtered = await client.get(f"{PREFIX}/individuals/tree", params={"samples": normal.id})
        assert pks(filtered) == [individual.id]
        assert_problem(await client.get(f"{PREFIX}/individuals/tree", params={"bogus": 1}), 400)
        missing = await client.get(f"{PREFIX}/individuals/tree/987654")
        assert NOT_FOUND in assert_problem(missing, 404)["detail"]
        # `tree` is not an individual's identifier: the detail route still works.
        assert (await client.get(f"{PREFIX}/individuals/{individual.id}")).status_code == 200


class TestSystemIdRedirect:
    async def test_redirects_to_the_detail(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        experiment = await make_experiment(session)
        aliquot = await make_aliquot(session)
        sample = await session.get(type(experiment.sample), experiment.sample_id)
        cases = [
            (experiment.system_id, f"experiments/{experiment.id}"),
            (sample.system_id, f"samples/{sample.id}"),  # type: ignore[union-attr]
            (
                experiment.sample.individual.system_id,
                f"individuals/{experiment.sample.individual_id}",
            ),
            (aliquot.system_id, f"aliquots/{aliquot.id}"),
        ]
        for system_id, path in cases:
            for slash in ("", "/"):
                response = await client.get(f"{PREFIX}/system_id/{system_id}{slash}")
                assert response.status_code == 302, response.text
                assert response.headers["location"] == f"http://test{PREFIX}/{path}"
        followed = await client.get(
            f"{PREFIX}/system_id/{experiment.system_id}", follow_redirects=True
        )
        assert followed.json()["pk"] == experiment.id
        missing = await client.get(f"{PREFIX}/system_id/NOPE_H000001")
        assert NOT_FOUND in assert_problem(missing, 404)["detail"]


class TestSendEmail:
    async def test_form_with_repeated_recipients_goes_to_the_outbox(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        form = {
            "recipients": ["a@example.org", "b@example.org"],
            "subject": "failed <run>",
            "content": "trace & more",
            "html_template": "error",
        }
        for slash in ("", "/"):
            response = await client.post(f"{PREFIX}/send_email{slash}", data=form)
            assert response.status_code == 200, response.text
            assert response.json()["sent"] is False
        one = await client.post(
            f"{PREFIX}/send_email",
            data={"recipients": "c@example.org", "subject": "s", "content": "c"},
        )
        assert one.status_code == 200, one.text
        as_json = await client.post(
            f"{PREFIX}/send_email",
            json={"recipients": ["d@example.org"], "subject": "s", "content": "c"},
        )
        assert as_json.status_code == 200, as_json.text
        messages = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [m.recipients for m in messages] == [
            ["a@example.org", "b@example.org"],
            ["a@example.org", "b@example.org"],
            ["c@example.org"],
            ["d@example.org"],
        ]
        assert messages[0].subject == "failed <run>"
        assert messages[0].body == "trace & more"
        assert "<pre>trace &amp; more</pre>" in (messages[0].html or "")
        assert messages[2].html is None

    async def test_bad_forms_are_400s_and_sending_needs_a_permission(
        self, isabl_app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        url = f"{PREFIX}/send_email"
        response = await client.post(url, data={"subject": "s", "content": "c"})
        assert_problem(response, 400, locs=[["body", "recipients"]])
        response = await client.post(
            url, data={"recipients": "a@b.c", "subject": "s", "content": "c", "html_template": "x"}
        )
        assert_problem(response, 400, locs=[["body", "html_template"]])
        form = {"recipients": "a@b.c", "subject": "s", "content": "c"}
        reader = await make_user(session, "reader")
        async with client_as(isabl_app, session, reader) as other:
            response = await other.post(url, data=form)
            assert "auth.add_outboxmessage" in assert_problem(response, 403)["detail"]
        sender = await make_user(session, "sender", permissions=("auth.add_outboxmessage",))
        async with client_as(isabl_app, session, sender) as other:
            assert (await other.post(url, data=form)).status_code == 200


class TestWarmup:
    async def test_answers_without_credentials(self, anon_client: httpx.AsyncClient) -> None:
        for slash in ("", "/"):
            response = await anon_client.get(f"{PREFIX}/warmup{slash}")
            assert response.status_code == 200
            assert response.json() == {"status": "warm"}


class TestProtectedDeletes:
    async def test_an_application_in_use_is_a_409_and_links_follow_their_analysis(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        experiment = await make_experiment(session)
        analysis = await make_analysis(session, targets=[experiment])
        response = await client.delete(f"{PREFIX}/applications/{analysis.application_id}")
        assert_problem(response, 409)
        assert (await client.delete(f"{PREFIX}/analyses/{analysis.id}")).status_code == 204
        remaining = await session.scalar(
            select(Application.id).where(Application.id == analysis.application_id)
        )
        assert remaining is not None
        assert (await client.delete(f"{PREFIX}/applications/{remaining}")).status_code == 204
        assert (await client.get(f"{PREFIX}/experiments/{experiment.id}")).status_code == 200
        project = await make_project(session)
        await make_analysis(session, project_level_analysis=project)
        assert_problem(await client.delete(f"{PREFIX}/projects/{project.id}"), 409)
        assert await session.get(Project, project.id) is not None


class TestOpenAPI:
    async def test_the_reference_operation_ids_are_documented(
        self, client: httpx.AsyncClient
    ) -> None:
        document = (await client.get("/openapi.json")).json()
        operations = {
            operation["operationId"]
            for path in document["paths"].values()
            for operation in path.values()
        }
        generated = {
            f"{resource}_{action}"
            for resource in ("analyses", "applications", "clients", "custom_fields", "signals")
            for action in ("list", "create", "read", "update", "partial_update", "delete")
        }
        extra = {
            "analyses_bulk_update",
            "individuals_tree_list",
            "individuals_tree_read",
            "system_id_read",
            "send_email_create",
            "warmup_list",
        }
        assert generated | extra <= operations
        paths = document["paths"]
        assert "patch" in paths[f"{PREFIX}/analyses/bulk_update"]
        assert "get" in paths[f"{PREFIX}/individuals/tree/{{id}}"]
