"""The query-string grammar: table-driven cases from `cases/grammar.json`, and the
round-trip property `parse(render(condition)) == condition`."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labapi.core.errors import QueryError
from labapi.query import (
    OPERATORS,
    TRANSFORMS,
    Condition,
    Lookup,
    parse_param,
    parse_params,
    split_query_string,
)

CASES: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "cases" / "grammar.json").read_text(encoding="utf-8")
)


def case_id(case: dict[str, Any]) -> str:
    return repr(case.get("query", case.get("key")))


class TestSplitQueryString:
    @pytest.mark.parametrize("case", CASES["split_query_string"], ids=case_id)
    def test_case(self, case: dict[str, Any]) -> None:
        assert split_query_string(case["query"]) == [tuple(pair) for pair in case["pairs"]]


class TestParseParam:
    @pytest.mark.parametrize("case", CASES["parse_param"], ids=case_id)
    def test_case(self, case: dict[str, Any]) -> None:
        condition = parse_param(case["key"], case["raw"])
        assert condition == Condition(
            param=case["key"],
            lookups=tuple(Lookup(tuple(path), op) for path, op in case["lookups"]),
            negate=case["negate"],
            raw=case["raw"],
        )

    @pytest.mark.parametrize("case", CASES["parse_param_errors"], ids=case_id)
    def test_invalid_syntax(self, case: dict[str, Any]) -> None:
        with pytest.raises(QueryError) as info:
            parse_param(case["key"], "x")
        assert [item.as_dict() for item in info.value.errors] == [
            {
                "loc": ["query", case["key"]],
                "msg": info.value.errors[0].msg,
                "type": "invalid_syntax",
            }
        ]
        assert info.value.status == 400
        assert info.value.code == "LAB100"

    def test_render_drops_exact(self) -> None:
        assert parse_param("name__exact", "x").render() == "name=x"
        assert parse_param("name__exact!", None).render() == "name!"

    def test_render_keeps_exact_after_a_field_named_like_an_operator(self) -> None:
        condition = parse_param("custom_fields__in__exact", "x")
        assert condition.render() == "custom_fields__in__exact=x"
        assert parse_param("custom_fields__in__exact", "x").lookups == condition.lookups

    def test_render_combined(self) -> None:
        condition = parse_param("[name,notes]__icontains!", "a=b")
        assert condition.render() == "[name__icontains,notes__icontains]!=a=b"
        assert condition.render_key() == "[name__icontains,notes__icontains]"


class TestParseParams:
    def test_reserved_are_taken_first_with_every_value(self) -> None:
        pairs = split_query_string("format=json&name=x&limit=5&format=json&limit=7&search")
        reserved, conditions = parse_params(pairs, ("limit", "format", "search"))
        assert reserved == {"format": ["json", "json"], "limit": ["5", "7"], "search": [None]}
        assert conditions == [Condition("name", (Lookup(("name",)),), False, "x")]

    def test_a_negated_reserved_name_is_a_filter(self) -> None:
        reserved, conditions = parse_params([("limit!", "5")], ("limit",))
        assert reserved == {}
        assert conditions == [Condition("limit!", (Lookup(("limit",)),), True, "5")]

    def test_every_bad_key_is_reported(self) -> None:
        pairs = split_query_string("a]=1&name=x&[b=2&c__=3")
        with pytest.raises(QueryError) as info:
            parse_params(pairs, ())
        assert [item.loc for item in info.value.errors] == [
            ("query", "a]"),
            ("query", "[b"),
            ("query", "c__"),
        ]
        assert {item.type for item in info.value.errors} == {"invalid_syntax"}


# ---------------------------------------------------------------- round trip
# A segment is a field name or a JSON key: word characters, '-', '.', ':'; never empty,
# never starting or ending with '_' and never holding '__' (that would split it).
_CORE = st.text(alphabet="abcxyzAZ09-.:\u00e9\u03b1", min_size=1, max_size=4)
segments = st.one_of(
    st.lists(_CORE, min_size=1, max_size=3).map("_".join),
    st.sampled_from(OPERATORS + TRANSFORMS + ("name", "pk", "tags", "custom_fields")),
)
lookups = st.builds(
    Lookup,
    path=st.lists(segments, min_size=1, max_size=4).map(tuple),
    op=st.sampled_from(OPERATORS),
)


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    parts = tuple(draw(st.lists(lookups, min_size=1, max_size=3)))
    negate = draw(st.booleans())
    raw = draw(st.none() | st.text(max_size=12))
    probe = Condition(param="", lookups=parts, negate=negate, raw=raw)
    key = probe.render_key() + ("!" if negate else "")
    return Condition(param=key, lookups=parts, negate=negate, raw=raw)


class TestRoundTrip:
    @settings(max_examples=300, deadline=None)
    @given(conditions())
    def test_parse_render(self, condition: Condition) -> None:
        key, sep, value = condition.render().partition("=")
        assert parse_param(key, value if sep else None) == condition

    @settings(max_examples=300, deadline=None)
    @given(st.lists(conditions(), min_size=1, max_size=4))
    def test_through_a_query_string(self, items: list[Condition]) -> None:
        chunks = []
        for condition in items:
            key = quote_plus(condition.render_key() + ("!" if condition.negate else ""))
            chunks.append(key if condition.raw is None else f"{key}={quote_plus(condition.raw)}")
        reserved, parsed = parse_params(split_query_string("&".join(chunks)), ())
        assert reserved == {}
        assert parsed == items
