"""What individual Isabl resources add to the generic endpoints: derived fields (slugs,
technique categories), renames, tag links, and body validation."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.isabl.models import METHOD_CATEGORY
from tests.isabl.cases import NOT_FOUND, assert_problem
from tests.isabl.factories import make_center, make_disease, make_tag, make_technique


class TestTechniquesCreate:
    @pytest.mark.parametrize(
        ("method", "category"), [("WG", "DNA"), ("TR", "RNA"), ("HE", "IMAGING")]
    )
    async def test_category_follows_the_method(
        self, client: httpx.AsyncClient, method: str, category: str
    ) -> None:
        response = await client.post(
            "/api/v1/techniques", json={"method": method, "name": "T", "category": "OTHER"}
        )
        assert response.status_code == 201, response.text
        assert (response.json()["method"], response.json()["category"]) == (method, category)

    async def test_every_method_has_its_category(self, client: httpx.AsyncClient) -> None:
        expected = {
            **dict.fromkeys(["WG", "WE", "TD", "CS", "MD", "AT"], "DNA"),
            **dict.fromkeys(["TR", "WT", "RS"], "RNA"),
            **dict.fromkeys(["HE", "IH", "IF"], "IMAGING"),
        }
        assert expected == METHOD_CATEGORY
        for method in expected:
            response = await client.post(
                "/api/v1/techniques", json={"method": method, "name": "Same name"}
            )
            assert response.status_code == 201, response.text
        listed = (await client.get("/api/v1/techniques")).json()["results"]
        assert {item["method"]: item["category"] for item in listed} == expected

    async def test_slug_is_made_of_name_and_method(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/techniques", json={"method": "WE", "name": "Exome Capture v2"}
        )
        assert response.json()["slug"] == "exome-capture-v2-we"

    async def test_method_not_in_the_enum_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/techniques", json={"method": "XX", "name": "T"})
        problem = assert_problem(response, 400, locs=[["body", "method"]])
        assert problem["errors"][0]["type"] == "enum"
        assert "WG" in problem["errors"][0]["msg"]


class TestTechniquesRead:
    async def test_a_name_shared_by_two_techniques_is_a_404(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        dna = await make_technique(session, name="Panel", method="TD")
        await make_technique(session, name="Panel", method="TR")
        response = await client.get("/api/v1/techniques/Panel")
        assert NOT_FOUND in assert_problem(response, 404)["detail"]
        response = await client.get(f"/api/v1/techniques/{dna.slug}")
        assert response.json()["pk"] == dna.id


class TestTechniquesUpdate:
    async def test_category_cannot_be_set(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        technique = await make_technique(session, method="HE")
        for method in ("PUT", "PATCH"):
            response = await client.request(
                method, f"/api/v1/techniques/{technique.id}", json={"category": "DNA"}
            )
            assert response.status_code == 200, response.text
            assert response.json()["category"] == "IMAGING"


class TestCentersCreate:
    async def test_slug_is_made_of_name_and_acronym(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/centers", json={"name": "Memorial Sloan Kettering", "acronym": "MSK"}
        )
        assert response.json()["slug"] == "memorial-sloan-kettering-msk"

    async def test_acronym_longer_than_10_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "A" * 11})
        problem = assert_problem(response, 400, locs=[["body", "acronym"]])
        assert problem["errors"][0]["type"] == "string_too_long"
        assert problem["type"] == "/problems/validation-error"
        response = await client.post("/api/v1/centers", json={"name": "C", "acronym": "A" * 10})
        assert response.status_code == 201

    async def test_missing_name_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/centers", json={"acronym": "MSK"})
        problem = assert_problem(response, 400, locs=[["body", "name"]])
        assert problem["errors"][0]["type"] == "missing"

    async def test_every_bad_field_is_reported(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/centers",
            json={
                "name": "",
                "acronym": "A" * 11,
                "storage_usage": "lots",
                "created_by": "not a username!",
                "tags": [{"name": ""}],
            },
        )
        problem = assert_problem(response, 400)
        assert sorted(error["loc"] for error in problem["errors"]) == [
            ["body", "acronym"],
            ["body", "created_by"],
            ["body", "name"],
            ["body", "storage_usage"],
            ["body", "tags", 0, "name"],
        ]
        assert (await client.get("/api/v1/centers")).json()["count"] == 0

    async def test_storage_usage_beyond_64_bits_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/centers", json={"name": "C", "acronym": "C", "storage_usage": 2**63}
        )
        assert_problem(response, 400, locs=[["body", "storage_usage"]])

    async def test_a_slug_clash_is_a_409(self, client: httpx.AsyncClient) -> None:
        first = await client.post("/api/v1/centers", json={"name": "Memorial", "acronym": "MSK"})
        assert first.status_code == 201
        response = await client.post("/api/v1/centers", json={"name": "memorial", "acronym": "msk"})
        assert_problem(response, 409)
        assert (await client.get("/api/v1/centers")).json()["count"] == 1


class TestDiseasesUpdate:
    async def test_put_renames_and_the_slug_follows(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        disease = await make_disease(session, name="Old Name", acronym="ON")
        response = await client.put(
            f"/api/v1/diseases/{disease.id}", json={"name": "New Name", "acronym": "NN"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["acronym"], body["slug"]) == ("New Name", "NN", "new-name-nn")
        assert (await client.get("/api/v1/diseases/new-name-nn")).json()["pk"] == disease.id

    async def test_patch_of_the_acronym_alone_moves_the_slug(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        disease = await make_disease(session, name="Leukemia", acronym="L")
        response = await client.patch(f"/api/v1/diseases/{disease.id}", json={"acronym": "LK"})
        assert (response.json()["name"], response.json()["slug"]) == ("Leukemia", "leukemia-lk")

    async def test_put_needs_name_and_acronym(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        disease = await make_disease(session)
        response = await client.put(f"/api/v1/diseases/{disease.id}", json={"notes": "x"})
        assert_problem(response, 400, locs=[["body", "name"], ["body", "acronym"]])

    async def test_acronym_longer_than_20_is_a_400(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        disease = await make_disease(session)
        response = await client.put(
            f"/api/v1/diseases/{disease.id}", json={"name": "N", "acronym": "A" * 21}
        )
        assert_problem(response, 400, locs=[["body", "acronym"]])

    async def test_renaming_onto_another_disease_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_disease(session, name="Taken", acronym="TK")
        url = f"/api/v1/diseases/{(await make_disease(session, name='Free', acronym='FR')).id}"
        response = await client.put(url, json={"name": "Taken", "acronym": "TK"})
        assert_problem(response, 409)
        after = await client.get(url)
        assert (after.json()["name"], after.json()["slug"]) == ("Free", "free-fr")

    async def test_null_name_is_a_400(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        disease = await make_disease(session)
        response = await client.patch(f"/api/v1/diseases/{disease.id}", json={"name": None})
        assert_problem(response, 400, locs=[["body", "name"]])


class TestAssembliesCreate:
    async def test_species_not_in_the_enum_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/assemblies", json={"name": "X", "species": "DOG"})
        assert_problem(response, 400, locs=[["body", "species"]])

    async def test_has_no_slug(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/assemblies",
            json={"name": "GRCh37", "species": "HUMAN", "reference_data": {"fasta": "/a.fa"}},
        )
        assert "slug" not in response.json()
        assert response.json()["reference_data"] == {"fasta": "/a.fa"}


class TestPlatformsCreate:
    async def test_slug_is_made_of_manufacturer_system_and_version(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/platforms",
            json={"manufacturer": "ILLUMINA", "system": "HISEQ", "version": "2500"},
        )
        assert response.json()["slug"] == "illumina-hiseq-2500"
        assert (await client.get("/api/v1/platforms/illumina-hiseq-2500")).status_code == 200

    async def test_empty_version_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/platforms", json={"manufacturer": "A", "system": "B", "version": ""}
        )
        assert_problem(response, 400, locs=[["body", "version"]])


class TestTagsUpdate:
    async def test_rename_moves_the_slug_and_the_links(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        tag = await make_tag(session, name="old name")
        center = await make_center(session, tags=[tag])
        response = await client.put(f"/api/v1/tags/{tag.id}", json={"name": "New Name"})
        assert response.json() == {"pk": tag.id, "name": "New Name", "slug": "new-name"}
        linked = (await client.get(f"/api/v1/centers/{center.id}")).json()["tags"]
        assert linked == [{"name": "New Name", "pk": tag.id}]

    async def test_renaming_onto_another_tag_is_a_409(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await make_tag(session, name="taken")
        url = f"/api/v1/tags/{(await make_tag(session, name='free')).id}"
        assert_problem(await client.put(url, json={"name": "taken"}), 409)
        assert (await client.get(url)).json()["name"] == "free"

    async def test_name_longer_than_100_is_a_400(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        tag = await make_tag(session)
        response = await client.put(f"/api/v1/tags/{tag.id}", json={"name": "x" * 101})
        assert_problem(response, 400, locs=[["body", "name"]])


class TestTagsDelete:
    async def test_removes_the_links_but_not_the_tagged_objects(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        gone, kept = await make_tag(session, name="gone"), await make_tag(session, name="kept")
        center = await make_center(session, tags=[gone, kept])
        technique = await make_technique(session, tags=[gone])
        assert (await client.delete(f"/api/v1/tags/{gone.id}")).status_code == 204
        center_tags = (await client.get(f"/api/v1/centers/{center.id}")).json()["tags"]
        assert center_tags == [{"name": "kept", "pk": kept.id}]
        assert (await client.get(f"/api/v1/techniques/{technique.id}")).json()["tags"] == []
        assert (await client.get("/api/v1/centers", params={"tags": "gone"})).json()["count"] == 0
        assert (await client.get("/api/v1/centers")).json()["count"] == 1
