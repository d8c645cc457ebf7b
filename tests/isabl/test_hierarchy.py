"""The Isabl hierarchy end to end: individuals, samples, aliquots, experiments and projects
got or created with their nested objects in one request, their system ids, their nested
representations, relation filters and protected deletes (SPEC §5)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.core.settings import get_settings
from tests.conftest import client_as, make_user
from tests.isabl.cases import PREFIX, assert_problem, pks

MSK = {"name": "Memorial Sloan Kettering", "acronym": "MSK"}
PATIENT = {"identifier": "PATIENT-1", "species": "HUMAN", "center": MSK}
TUMOR = {"identifier": "TUMOR-1", "category": "TUMOR", "individual": PATIENT}
WGS = {"method": "WG", "name": "Whole Genome"}
HISEQ = {"manufacturer": "ILLUMINA", "system": "HISEQ", "version": "2500"}


async def post(client: httpx.AsyncClient, resource: str, body: dict[str, Any]) -> httpx.Response:
    """POST a body to a resource's list path."""
    return await client.post(f"{PREFIX}/{resource}", json=body)


async def created(client: httpx.AsyncClient, resource: str, body: dict[str, Any]) -> Any:
    """POST a body that must create a new object; its representation."""
    response = await post(client, resource, body)
    assert response.status_code == 201, response.text
    return response.json()


async def count(client: httpx.AsyncClient, resource: str) -> int:
    """How many objects a resource lists."""
    return int((await client.get(f"{PREFIX}/{resource}")).json()["count"])


def experiment(**extra: Any) -> dict[str, Any]:
    """A full experiment body, every nested object given by value."""
    return {
        "identifier": "RUN-1",
        "sample": TUMOR,
        "technique": WGS,
        "platform": HISEQ,
        "projects": [{"title": "Relapse"}],
        "raw_data": [{"path": "/data/r1.fastq.gz", "file_type": "FASTQ_R1"}],
    } | extra


class TestNestedGetOrCreate:
    async def test_one_post_creates_the_whole_chain(self, client: httpx.AsyncClient) -> None:
        body = await created(client, "experiments", experiment(aliquot_id="ALQ-1"))
        for resource in ("centers", "individuals", "samples", "aliquots", "techniques"):
            assert await count(client, resource) == 1, resource
        assert await count(client, "platforms") == 1
        assert await count(client, "projects") == 1
        assert body["aliquot_id"] == "ALQ-1"
        assert body["aliquot"]["sample"]["pk"] == body["sample"]["pk"]

    async def test_posting_it_again_finds_every_object(self, client: httpx.AsyncClient) -> None:
        first = await created(client, "experiments", experiment(aliquot_id="ALQ-1"))
        again = await post(client, "experiments", experiment(aliquot_id="ALQ-1", notes="x"))
        assert again.status_code == 200, again.text
        assert again.json() == first
        for resource in ("centers", "individuals", "samples", "aliquots", "projects"):
            assert await count(client, resource) == 1, resource

    async def test_nested_objects_are_found_by_key_or_pk(self, client: httpx.AsyncClient) -> None:
        individual = await created(client, "individuals", PATIENT)
        by_key = await created(client, "samples", TUMOR)
        by_pk = await created(
            client,
            "samples",
            {"identifier": "N-1", "category": "NORMAL", "individual": {"pk": individual["pk"]}},
        )
        assert by_key["individual"]["pk"] == by_pk["individual"]["pk"] == individual["pk"]
        assert await count(client, "individuals") == 1
        assert await count(client, "centers") == 1

    async def test_a_bad_nested_field_is_a_400_at_its_path(self, client: httpx.AsyncClient) -> None:
        bad = {**TUMOR, "individual": {**PATIENT, "species": "DOG", "birth_year": 1700}}
        response = await post(client, "samples", bad)
        assert_problem(
            response,
            400,
            locs=[["body", "individual", "birth_year"], ["body", "individual", "species"]],
        )
        assert await count(client, "centers") == 0

    async def test_an_unknown_nested_pk_is_a_400_and_nothing_is_kept(
        self, client: httpx.AsyncClient
    ) -> None:
        body = experiment(technique={"pk": 987654321})
        response = await post(client, "experiments", body)
        assert_problem(response, 400, locs=[["body", "technique", "pk"]])


class TestNullKeyMembers:
    async def test_experiment_without_aliquot_is_found_again(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await created(client, "experiments", experiment())
        assert first["aliquot"] is None
        assert first["aliquot_id"] is None
        again = await post(client, "experiments", experiment(aliquot=None))
        assert again.status_code == 200, again.text
        assert again.json()["pk"] == first["pk"]
        other = await created(client, "experiments", experiment(aliquot_id="ALQ-1"))
        assert other["pk"] != first["pk"]

    async def test_experiment_without_identifier_is_found_again(
        self, client: httpx.AsyncClient
    ) -> None:
        body = {"sample": TUMOR, "technique": WGS}
        first = await created(client, "experiments", body)
        assert first["identifier"] is None
        again = await post(client, "experiments", body)
        assert (again.status_code, again.json()["pk"]) == (200, first["pk"])


class TestSystemIds:
    async def test_formats(self, client: httpx.AsyncClient) -> None:
        prefix = get_settings().system_id_prefix
        human = await created(client, "individuals", PATIENT)
        mouse = await created(client, "individuals", {**PATIENT, "species": "MOUSE"})
        assert human["system_id"] == f"{prefix}_H{human['pk']:06d}"
        assert mouse["system_id"] == f"{prefix}_M{mouse['pk']:06d}"

        ind = human["system_id"]
        t1 = await created(client, "samples", TUMOR)
        t2 = await created(client, "samples", {**TUMOR, "identifier": "TUMOR-2"})
        n1 = await created(client, "samples", {**TUMOR, "identifier": "N", "category": "NORMAL"})
        assert [t1["system_id"], t2["system_id"], n1["system_id"]] == [
            f"{ind}_T01",
            f"{ind}_T02",
            f"{ind}_N01",
        ]

        a1 = await created(client, "aliquots", {"identifier": "A", "sample": TUMOR})
        a2 = await created(client, "aliquots", {"identifier": "B", "sample": TUMOR})
        assert [a1["system_id"], a2["system_id"]] == [f"{ind}_T01_01", f"{ind}_T01_02"]

        e1 = await created(client, "experiments", experiment(aliquot_id="B"))
        e2 = await created(client, "experiments", experiment(aliquot_id="B", identifier="R2"))
        e3 = await created(
            client,
            "experiments",
            experiment(aliquot_id="B", technique={"method": "WG", "name": "Other WG"}),
        )
        rna = await created(
            client,
            "experiments",
            experiment(aliquot_id="B", technique={"method": "TR", "name": "RNA"}),
        )
        bare = await created(client, "experiments", experiment())
        assert [x["system_id"] for x in (e1, e2, e3, rna, bare)] == [
            f"{ind}_T01_02_WG01",
            f"{ind}_T01_02_WG02",
            f"{ind}_T01_02_WG03",
            f"{ind}_T01_02_TR01",
            f"{ind}_T01_00_WG01",
        ]

    async def test_a_deleted_sibling_number_is_not_reused(self, client: httpx.AsyncClient) -> None:
        t1 = await created(client, "samples", TUMOR)
        t2 = await created(client, "samples", {**TUMOR, "identifier": "TUMOR-2"})
        assert (await client.delete(f"{PREFIX}/samples/{t1['pk']}")).status_code == 204
        t3 = await created(client, "samples", {**TUMOR, "identifier": "TUMOR-3"})
        assert t2["system_id"].endswith("_T02")
        assert t3["system_id"].endswith("_T03")

    async def test_system_id_is_read_only_and_names_the_object(
        self, client: httpx.AsyncClient
    ) -> None:
        body = await created(client, "individuals", PATIENT)
        url = f"{PREFIX}/individuals/{body['system_id']}"
        response = await client.patch(url, json={"system_id": "forged", "notes": "n"})
        assert response.status_code == 200, response.text
        assert response.json()["system_id"] == body["system_id"]
        assert (await client.get(url)).json()["notes"] == "n"


class TestRepresentation:
    async def test_experiment_nests_full_objects(self, client: httpx.AsyncClient) -> None:
        body = await created(client, "experiments", experiment(aliquot_id="A"))
        detail = (await client.get(f"{PREFIX}/experiments/{body['pk']}")).json()
        listed = (await client.get(f"{PREFIX}/experiments")).json()["results"]
        assert detail == body == listed[0]
        sample = detail["sample"]
        assert sample["model_name"] == "Sample"
        assert sample["individual"]["model_name"] == "Individual"
        assert sample["individual"]["center"]["acronym"] == "MSK"
        assert sample["individual"]["gender"] == "UNKNOWN"
        assert sample["disease"] is None
        assert detail["technique"]["category"] == "DNA"
        assert detail["platform"]["system"] == "HISEQ"
        assert [p["title"] for p in detail["projects"]] == ["Relapse"]
        assert detail["projects"][0]["sharing"] == {}
        assert detail["center"] is None
        assert detail["bam_files"] == {}
        assert detail["raw_data"] == [{"path": "/data/r1.fastq.gz", "file_type": "FASTQ_R1"}]

    async def test_raw_data_null_stays_null_and_bam_files_never_null(
        self, client: httpx.AsyncClient
    ) -> None:
        body = await created(client, "experiments", experiment(raw_data=None, bam_files=None))
        assert (body["raw_data"], body["bam_files"]) == (None, {})
        url = f"{PREFIX}/experiments/{body['pk']}"
        response = await client.get(f"{PREFIX}/experiments", params={"raw_data__isnull": "true"})
        assert pks(response) == [body["pk"]]
        patched = await client.patch(url, json={"raw_data": [], "bam_files": {"GRCh37": {}}})
        assert (patched.json()["raw_data"], patched.json()["bam_files"]) == ([], {"GRCh37": {}})
        patched = await client.patch(url, json={"raw_data": None})
        assert patched.json()["raw_data"] is None

    async def test_patch_replaces_projects_and_links_by_key(
        self, client: httpx.AsyncClient
    ) -> None:
        body = await created(client, "experiments", experiment())
        other = await created(client, "projects", {"title": "Other"})
        url = f"{PREFIX}/experiments/{body['pk']}"
        response = await client.patch(url, json={"projects": [{"pk": other["pk"]}]})
        assert [p["pk"] for p in response.json()["projects"]] == [other["pk"]]
        response = await client.patch(url, json={"aliquot_id": "LATE"})
        assert response.json()["aliquot_id"] == "LATE"
        assert response.json()["aliquot"]["sample"]["pk"] == body["sample"]["pk"]


class TestNestedUpdateInPlace:
    async def test_experiment_patch_updates_its_sample_given_with_pk(
        self, isabl_app: FastAPI, session: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        # isabl_cli's test_system_id PATCHes the whole sample it read back, pk included.
        body = await created(client, "experiments", experiment())
        url = f"{PREFIX}/experiments/{body['pk']}"
        sample = body["sample"] | {"data": {"key": "value"}, "notes": "a note"}
        patched = await client.patch(url, json={"sample": sample})
        assert patched.status_code == 200, patched.text
        assert (patched.json()["sample"]["data"], patched.json()["sample"]["notes"]) == (
            {"key": "value"},
            "a note",
        )
        stored = (await client.get(f"{PREFIX}/samples/{sample['pk']}")).json()
        assert (stored["data"], stored["notes"]) == ({"key": "value"}, "a note")
        assert stored["modified"] > body["sample"]["modified"]
        # The sample's update rules hold: read-only fields are ignored, create-only ones
        # refused, bad values are 400s at their path, an unknown pk is a 400.
        cases: list[tuple[dict[str, Any], int, list[list[str | int]]]] = [
            ({"system_id": "X", "identifier": "TUMOR-2"}, 200, []),
            ({"category": "NORMAL"}, 400, [["body", "sample", "category"]]),
            ({"collection_days": -1}, 400, [["body", "sample", "collection_days"]]),
            ({"pk": 987654, "notes": "x"}, 400, [["body", "sample", "pk"]]),
        ]
        for change, status, locs in cases:
            response = await client.patch(url, json={"sample": sample | change})
            if status == 200:
                assert response.status_code == 200, response.text
            else:
                assert_problem(response, status, locs=locs)
        stored = (await client.get(f"{PREFIX}/samples/{sample['pk']}")).json()
        assert (stored["identifier"], stored["system_id"], stored["category"]) == (
            "TUMOR-2",
            body["sample"]["system_id"],
            "TUMOR",
        )
        # A sample by pk alone, or by key, is only linked.
        other = await created(client, "samples", TUMOR | {"identifier": "TUMOR-9"})
        response = await client.patch(url, json={"sample": {"pk": other["pk"]}})
        assert response.json()["sample"] == other
        # Changing the sample in place needs isabl.change_sample besides change_experiment.
        changer = await make_user(session, "changer", permissions=("isabl.change_experiment",))
        async with client_as(isabl_app, session, changer) as as_changer:
            response = await as_changer.patch(url, json={"sample": other | {"notes": "no"}})
            assert "isabl.change_sample" in assert_problem(response, 403)["detail"]
            response = await as_changer.patch(url, json={"sample": {"pk": sample["pk"]}})
            assert response.status_code == 200, response.text
        assert (await client.get(f"{PREFIX}/samples/{other['pk']}")).json()["notes"] is None

    async def test_analysis_patch_with_stale_targets_leaves_the_experiments(
        self, client: httpx.AsyncClient
    ) -> None:
        # isabl_cli PATCHes analyses with the whole experiment objects it holds, possibly
        # stale: they name the experiments and nothing else.
        target = await created(client, "experiments", experiment())
        analysis = await created(client, "analyses", {"application": {"name": "A", "version": "1"}})
        url = f"{PREFIX}/experiments/{target['pk']}"
        fresh = await client.patch(url, json={"raw_data": [], "notes": "fresh"})
        assert fresh.status_code == 200, fresh.text
        stale = target | {"sample": target["sample"] | {"notes": "stale"}}
        response = await client.patch(
            f"{PREFIX}/analyses/{analysis['pk']}", json={"targets": [stale], "references": [stale]}
        )
        assert response.status_code == 200, response.text
        assert [t["pk"] for t in response.json()["targets"]] == [target["pk"]]
        now = (await client.get(url)).json()
        assert (now["raw_data"], now["notes"], now["sample"]["notes"]) == ([], "fresh", None)
        assert now["identifier"] == target["identifier"]


@contextmanager
def counting(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements run on the session's connection meanwhile."""
    statements: list[str] = []
    connection = session.bind.sync_connection  # type: ignore[union-attr]

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


class TestQueryCount:
    async def test_a_list_page_costs_the_same_whatever_its_size(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await created(client, "experiments", experiment(aliquot_id="A"))
        with counting(session) as one:
            assert (await client.get(f"{PREFIX}/experiments")).status_code == 200
        for n in range(2, 6):
            await created(
                client,
                "experiments",
                experiment(
                    identifier=f"RUN-{n}",
                    aliquot_id=f"A{n}",
                    sample={**TUMOR, "identifier": f"T{n}"},
                    projects=[{"title": f"P{n}"}],
                ),
            )
        with counting(session) as five:
            response = await client.get(f"{PREFIX}/experiments")
        assert response.json()["count"] == 5
        assert one
        assert len(five) == len(one)


class TestRelationFilters:
    async def test_filters_through_relations(self, client: httpx.AsyncClient) -> None:
        first = await created(client, "experiments", experiment())
        other_center = {"name": "Dana Farber", "acronym": "DFCI"}
        other_patient = {**PATIENT, "center": other_center}
        second = await created(
            client,
            "experiments",
            experiment(sample={**TUMOR, "individual": other_patient}, projects=[]),
        )
        individual = first["sample"]["individual"]["pk"]
        project = first["projects"][0]["pk"]
        samples = await client.get(f"{PREFIX}/samples", params={"individual": individual})
        assert pks(samples) == [first["sample"]["pk"]]
        for params, expected in (
            ({"projects": project}, [first["pk"]]),
            ({"projects!": project}, [second["pk"]]),
            ({"sample__individual__center__acronym": "DFCI"}, [second["pk"]]),
            ({"individual": individual}, [first["pk"]]),
            ({"sample": second["sample"]["pk"]}, [second["pk"]]),
            ({"technique": first["technique"]["pk"]}, [first["pk"], second["pk"]]),
            ({"platform__system": "HISEQ"}, [first["pk"], second["pk"]]),
            ({"aliquot__isnull": "true"}, [first["pk"], second["pk"]]),
        ):
            response = await client.get(f"{PREFIX}/experiments", params=params)
            assert pks(response) == expected, params
        for resource, params, expected in (
            ("individuals", {"projects": project}, [individual]),
            ("individuals", {"center__acronym": "MSK"}, [individual]),
            ("samples", {"projects": project}, [first["sample"]["pk"]]),
            ("samples", {"experiments": second["pk"]}, [second["sample"]["pk"]]),
            ("samples", {"category": "TUMOR"}, [first["sample"]["pk"], second["sample"]["pk"]]),
            ("projects", {"experiments": first["pk"]}, [project]),
        ):
            response = await client.get(f"{PREFIX}/{resource}", params=params)
            assert pks(response) == expected, (resource, params)

    async def test_aliquot_id_filters_by_the_aliquot_identifier(
        self, client: httpx.AsyncClient
    ) -> None:
        with_aliquot = await created(client, "experiments", experiment(aliquot_id="ALQ-9"))
        await created(client, "experiments", experiment())
        response = await client.get(f"{PREFIX}/experiments", params={"aliquot_id": "ALQ-9"})
        assert pks(response) == [with_aliquot["pk"]]


class TestProtectedDeletes:
    async def test_a_referenced_object_is_a_409_and_stays(self, client: httpx.AsyncClient) -> None:
        body = await created(client, "experiments", experiment())
        individual = body["sample"]["individual"]
        for resource, pk in (
            ("individuals", individual["pk"]),
            ("centers", individual["center"]["pk"]),
            ("samples", body["sample"]["pk"]),
            ("techniques", body["technique"]["pk"]),
        ):
            response = await client.delete(f"{PREFIX}/{resource}/{pk}")
            assert_problem(response, 409)
            assert (await client.get(f"{PREFIX}/{resource}/{pk}")).status_code == 200

    async def test_deleting_the_leaves_frees_the_chain(self, client: httpx.AsyncClient) -> None:
        body = await created(client, "experiments", experiment())
        project = body["projects"][0]["pk"]
        assert (await client.delete(f"{PREFIX}/projects/{project}")).status_code == 204
        after = (await client.get(f"{PREFIX}/experiments/{body['pk']}")).json()
        assert after["projects"] == []
        for resource, pk in (
            ("experiments", body["pk"]),
            ("samples", body["sample"]["pk"]),
            ("individuals", body["sample"]["individual"]["pk"]),
        ):
            assert (await client.delete(f"{PREFIX}/{resource}/{pk}")).status_code == 204
