"""Hostile input through HTTP: what the schema fuzzer found, oversized and malformed
requests, pathological patterns, forged hosts and brute force. Never a 500, never a hang."""

import httpx
import pytest

SAMPLE = {
    "identifier": "s1",
    "category": "TUMOR",
    "individual": {
        "identifier": "i1",
        "species": "HUMAN",
        "center": {"name": "Hostile Center", "acronym": "HC"},
    },
}


class TestFuzzFindings:
    async def test_unknown_keys_of_nested_bodies_never_reach_the_model(
        self, client: httpx.AsyncClient
    ) -> None:
        # IndividualCreate used to inherit extra="allow": `created` (an object here) went
        # into the INSERT (a 500), `system_id` and `created_by_id` could be forged.
        body = {
            **SAMPLE,
            "individual": {
                **SAMPLE["individual"],
                "created": {"x": {}},
                "system_id": "FORGED",
                "uuid": "not-a-uuid",
            },
        }
        response = await client.post("/api/v1/samples", json=body)
        assert response.status_code == 201, response.text
        individual = response.json()["individual"]
        assert individual["system_id"] != "FORGED"
        assert individual["created"].endswith("Z")

    @pytest.mark.parametrize("pk", [2**31, -(2**31) - 1, 2**63])
    async def test_a_body_pk_out_of_range_is_a_400(self, client: httpx.AsyncClient, pk) -> None:
        response = await client.post("/api/v1/tags", json={"pk": pk, "name": "x"})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "pk"]

    async def test_a_path_pk_out_of_range_is_a_404(self, client: httpx.AsyncClient) -> None:
        for ident in (str(2**31), str(2**63), "9" * 40):
            response = await client.get(f"/api/v1/tags/{ident}")
            assert response.status_code == 404, (ident, response.text)

    async def test_huge_json_numbers_are_stored_and_rendered(
        self, client: httpx.AsyncClient
    ) -> None:
        # PostgreSQL prints a stored 1.2e29 as a 30-digit integer: read back with json.loads
        # it was an int orjson cannot render, and every later read of the row was a 500.
        body = {"name": "big", "acronym": "BIG", "custom_fields": {"n": 1.2e29, "m": 2**64 - 1}}
        created = await client.post("/api/v1/centers", json=body)
        assert created.status_code == 201, created.text
        read = await client.get(f"/api/v1/centers/{created.json()['pk']}")
        assert read.status_code == 200, read.text
        assert read.json()["custom_fields"] == {"n": 1.2e29, "m": 2**64 - 1}
