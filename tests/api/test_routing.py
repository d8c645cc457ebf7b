"""A resource's router refuses paths outside its prefix before trying any of its routes
(FastAPI's per-route bookkeeping made the last resources of the registry cost ~2 ms a
request to reach), and tries them for paths under it."""

from typing import Any

import httpx
from fastapi import FastAPI

from labapi.api.factory import ResourceRouter, build_router
from labapi.facility.specs import INPUT


def _watched(tried: list[str]) -> FastAPI:
    """An app serving the action log's router, recording every route it tries."""
    router = build_router(INPUT)
    assert isinstance(router, ResourceRouter)
    for route in router.routes:
        original = route.matches

        def matches(scope: Any, original: Any = original, path: str = route.path) -> Any:
            tried.append(path)
            return original(scope)

        route.matches = matches  # type: ignore[method-assign]
    app = FastAPI()
    app.include_router(router)
    return app


async def test_paths_outside_the_prefix_try_no_route() -> None:
    tried: list[str] = []
    transport = httpx.ASGITransport(app=_watched(tried))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        # `input_crossing` is another resource: the same first letters, another prefix.
        for path in ("/api/input_crossing", "/api/inputs/1", "/api/substock/1"):
            assert (await client.get(path)).status_code == 404, path
        assert tried == []
        # Under the prefix the routes are tried: a method no route takes is a 405.
        assert (await client.patch("/api/input")).status_code == 405
        assert "/api/input" in tried
