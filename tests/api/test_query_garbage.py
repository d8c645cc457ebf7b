"""Random garbage in list query strings never gives a 500 (HTTP level; the compiler's own
oracle properties are in tests/query/test_properties.py).

Keys are built from real field names, relations, transforms and operators glued together
with junk; values are any text, numbers of any size, patterns; some pairs are raw bytes
(bad percent-escapes, invalid UTF-8, NULs). Every answer is a 200 page or a problem+json.
"""

import os
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect as sa_inspect

from labapi.query import OPERATORS, TRANSFORMS

SCALE = int(os.environ.get("LABAPI_HYPOTHESIS_SCALE", "1"))
RESERVED = ["limit", "offset", "ordering", "search", "count_limit", "fields", "format"]
RESERVED += ["pg", "pg_size", "o", "detail", "_all", "distinct"]
JUNK = ["", "!", "__", "[", "]", ",", "-", "%", "\x00", "é", "\ud800", "..", " ", "=", "&"]


def names(app: FastAPI) -> list[str]:
    """Every column and relation name of the served models, plus aliases."""
    found: set[str] = {"pk", "uupk", "tags", "created_by"}
    for spec in app.state.registry:
        mapper = sa_inspect(spec.model)
        found |= {attr.key for attr in mapper.attrs}
        found |= set(spec.aliases)
    return sorted(found)


def keys(app: FastAPI) -> st.SearchStrategy[str]:
    part = st.sampled_from(names(app) + list(OPERATORS) + list(TRANSFORMS) + RESERVED + JUNK)
    glued = st.lists(st.one_of(part, st.text(max_size=6)), min_size=1, max_size=5).map("__".join)
    return st.one_of(
        glued,
        glued.map(lambda k: k + "!"),
        st.lists(glued, min_size=1, max_size=3).map(lambda ks: "[" + ",".join(ks) + "]"),
    )


VALUES = st.one_of(
    st.text(max_size=30),
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**40).map(str),
    st.floats().map(str),
    st.sampled_from(["(a+)+$", "[", "\\", "%_%", "true", "1,2", "2026-13-45", "null", "{}"]),
    st.lists(st.text(max_size=5), max_size=4).map(",".join),
)
RAW = st.sampled_from(
    [b"%ZZ", b"%FF%FE", b"a=%C3%28", b"%00=%00", b"&&&", b"===", b"limit=%E2%82", b"x"]
)


def query_strings(app: FastAPI) -> st.SearchStrategy[bytes]:
    pair = st.tuples(keys(app), st.one_of(st.none(), VALUES)).map(
        lambda kv: (
            quote(kv[0], safe="", errors="surrogatepass").encode()
            + (b"" if kv[1] is None else b"=" + quote(kv[1], errors="surrogatepass").encode())
        )
    )
    return st.lists(st.one_of(pair, RAW), max_size=6).map(b"&".join)


@pytest.fixture
def list_paths(isabl_app: FastAPI) -> list[str]:
    return [f"{spec.surface.prefix}/{spec.name}" for spec in isabl_app.state.registry]


@settings(
    max_examples=150 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_garbage_queries_are_never_a_500(
    client: httpx.AsyncClient, isabl_app: FastAPI, list_paths: list[str], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(list_paths), label="path")
    query = data.draw(query_strings(isabl_app), label="query")
    url = httpx.URL(path, query=query)
    response = await client.get(url)
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        body = response.json()
        assert "results" in body or "data" in body
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code
