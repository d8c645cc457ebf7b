"""The OpenAPI document: the reference's operation ids for every resource of the registry,
list filter parameters, resolvable references, and the two documentation pages."""

from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from labapi.api.factory import ACTIONS
from labapi.isabl.specs import REGISTRY
from tests.isabl.cases import REFERENCE_FILTERS

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    """The OpenAPI document the app serves."""
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation by id: (path, method, operation)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                found[item[method]["operationId"]] = (path, method, item[method])
    return found


def references(node: Any) -> list[str]:
    """Every `$ref` value in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The node a local JSON pointer names."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


class TestOpenAPI:
    async def test_every_registered_resource_has_its_six_operation_ids_once(
        self, document: dict[str, Any], isabl_app: FastAPI
    ) -> None:
        counts = Counter(
            item[method]["operationId"]
            for item in document["paths"].values()
            for method in METHODS
            if method in item
        )
        assert [op for op, n in counts.items() if n > 1] == []
        registry = isabl_app.state.registry
        assert {spec.name for spec in REGISTRY} <= {spec.name for spec in registry}
        for spec in registry:
            for action in spec.actions:
                assert counts[f"{spec.name}_{action}"] == 1, f"{spec.name}_{action}"

    async def test_isabl_operations_are_on_the_reference_paths(
        self, document: dict[str, Any]
    ) -> None:
        found = operations(document)
        expected_methods = {
            "list": ("", "get"),
            "create": ("", "post"),
            "read": ("/{id}", "get"),
            "update": ("/{id}", "put"),
            "partial_update": ("/{id}", "patch"),
            "delete": ("/{id}", "delete"),
        }
        assert set(expected_methods) == set(ACTIONS)
        for spec in REGISTRY:
            for action, (suffix, method) in expected_methods.items():
                path, actual, _ = found[f"{spec.name}_{action}"]
                assert (path, actual) == (f"/api/v1/{spec.name}{suffix}", method)

    async def test_slash_variants_are_not_documented_twice(self, document: dict[str, Any]) -> None:
        assert [path for path in document["paths"] if path.startswith("/api/v1/centers")] == [
            "/api/v1/centers",
            "/api/v1/centers/{id}",
        ]

    @pytest.mark.parametrize("name", sorted(REFERENCE_FILTERS))
    async def test_list_documents_the_reference_filters(
        self, document: dict[str, Any], name: str
    ) -> None:
        _, _, operation = operations(document)[f"{name}_list"]
        params = {param["name"]: param for param in operation["parameters"]}
        reference = {*REFERENCE_FILTERS[name], "count_limit", "ordering", "limit", "offset"}
        assert sorted(reference - set(params)) == []
        assert all(params[name]["in"] == "query" for name in reference)
        assert params["limit"]["schema"]["type"] == "integer"
        assert "icontains" in operation["description"]

    async def test_enum_filters_list_their_members(self, document: dict[str, Any]) -> None:
        _, _, operation = operations(document)["techniques_list"]
        method = next(param for param in operation["parameters"] if param["name"] == "method")
        assert set(method["schema"]["enum"]) >= {"WG", "TR", "HE"}

    async def test_write_operations_document_their_bodies(self, document: dict[str, Any]) -> None:
        found = operations(document)
        for spec in REGISTRY:
            for action in ("create", "update", "partial_update"):
                _, _, operation = found[f"{spec.name}_{action}"]
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                assert "$ref" in schema, (spec.name, action)
                resolve(document, schema["$ref"])

    async def test_errors_are_documented_as_problem_json(self, document: dict[str, Any]) -> None:
        _, _, operation = operations(document)["centers_read"]
        assert "application/problem+json" in operation["responses"]["404"]["content"]

    async def test_every_reference_resolves(self, document: dict[str, Any]) -> None:
        broken = []
        for ref in sorted(set(references(document))):
            try:
                resolve(document, ref)
            except (KeyError, AssertionError):
                broken.append(ref)
        assert broken == []


class TestDocs:
    async def test_swagger_ui(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/docs")
        assert response.status_code == 200
        assert "swagger-ui" in response.text
        assert "/openapi.json" in response.text

    async def test_redoc(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/redoc")
        assert response.status_code == 200
        assert "redoc" in response.text.lower()
        assert "/openapi.json" in response.text
