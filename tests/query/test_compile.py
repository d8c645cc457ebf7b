"""The compiler against both databases: every operator, transform, path kind, alias, and
the refusals, as table-driven cases (`cases/filters.py`) over the rows of ROWS."""

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.core.errors import QueryError
from labapi.isabl.models import Technique
from labapi.query import (
    apply_ordering,
    compile_filters,
    compile_search,
    field_names,
    parse_ordering,
    parse_param,
    parse_params,
    search_terms,
    split_query_string,
)
from tests.query.cases.filters import (
    BARE_RELATIONS,
    ERRORS,
    FILTERS,
    ORDERING_ERRORS,
    ORDERINGS,
)
from tests.query.conftest import ALIASES, Dataset, run_filters

PLACEHOLDER = re.compile(r"\{(id|uuid|user|tag):([^}]+)\}")


def expand(query: str, dataset: Dataset) -> str:
    """Replace `{id:alpha}`-style placeholders with the inserted rows' keys."""

    def value(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "id":
            return str(dataset.techniques[name].id)
        if kind == "uuid":
            return str(dataset.techniques[name].uuid)
        if kind == "user":
            return str(dataset.users[name].id)
        return str(dataset.tags[name].id)

    return PLACEHOLDER.sub(value, query)


def filter_params() -> list[Any]:
    return [
        pytest.param(query, expected, id=f"{section}:{query}")
        for section, cases in FILTERS.items()
        for query, expected in cases
    ]


def compile_query(query: str, aliases: dict[str, str] | None = None) -> None:
    """Parse and compile a query string's filters."""
    _, conditions = parse_params(split_query_string(query), ("search",))
    compile_filters(Technique, conditions, ALIASES if aliases is None else aliases)


def query_error(query: str, aliases: dict[str, str] | None = None) -> QueryError:
    """The QueryError a query string raises while being parsed and compiled."""
    with pytest.raises(QueryError) as info:
        compile_query(query, aliases)
    return info.value


class TestFilters:
    @pytest.mark.parametrize(("query", "expected"), filter_params())
    async def test_case(
        self, session: AsyncSession, dataset: Dataset, query: str, expected: tuple[str, ...]
    ) -> None:
        assert await run_filters(session, expand(query, dataset)) == sorted(expected)

    @pytest.mark.parametrize(
        ("query", "expected"), BARE_RELATIONS, ids=[q for q, _ in BARE_RELATIONS]
    )
    async def test_bare_relation_compares_the_related_pk(
        self, session: AsyncSession, dataset: Dataset, query: str, expected: tuple[str, ...]
    ) -> None:
        assert await run_filters(session, expand(query, dataset), aliases={}) == sorted(expected)


class TestErrors:
    @pytest.mark.parametrize(("query", "errors"), ERRORS, ids=[q for q, _ in ERRORS])
    def test_case(self, query: str, errors: list[tuple[str, str]]) -> None:
        error = query_error(query)
        assert [(item.loc, item.type) for item in error.errors] == [
            (("query", param), kind) for param, kind in errors
        ]
        assert error.status == 400
        assert error.problem()["errors"][0]["loc"] == ["query", errors[0][0]]

    def test_unknown_field_lists_the_valid_names(self) -> None:
        (item,) = query_error("nope=1").errors
        assert item.msg.startswith("unknown field 'nope' on Technique; valid: ")
        valid = item.msg.split("valid: ")[1].split(", ")
        assert valid == field_names(Technique)
        assert {"name", "tags", "created_by", "pk", "uupk", "custom_fields"} <= set(valid)

    def test_unknown_operator_lists_the_valid_ones(self) -> None:
        (item,) = query_error("name__foo=1").errors
        assert "unknown operator 'foo'" in item.msg
        assert "icontains" in item.msg
        assert "regex" in item.msg
        (item,) = query_error("created__foo=1").errors
        assert "week_day" in item.msg

    def test_operator_mismatch_names_the_valid_operators(self) -> None:
        (item,) = query_error("storage_usage__icontains=1").errors
        assert item.msg == (
            "operator 'icontains' does not apply to a integer field; "
            "valid: exact, in, isnull, gt, gte, lt, lte, range"
        )

    def test_problem_type_follows_the_first_error(self) -> None:
        error = query_error("name__foo=1&nope=2")
        assert (error.code, error.slug) == ("LAB102", "unknown-operator")
        assert error.problem()["type"] == "/problems/unknown-operator"
        assert query_error("pk=abc").code == "LAB103"
        assert query_error("name__regex=(").code == "LAB105"

    def test_value_errors_name_the_value(self) -> None:
        (item,) = query_error("created=notadate").errors
        assert item.msg == "'notadate' is not an ISO 8601 datetime"
        (item,) = query_error("storage_usage__range=1").errors
        assert item.msg == "range takes two comma-separated values"
        (item,) = query_error("name__regex=(").errors
        assert item.msg.startswith("invalid regular expression: missing )")

    def test_combined_lookup_reports_every_part(self) -> None:
        (item,) = query_error("[storage_usage__gte,created__gte]=abc").errors
        assert item.msg == "'abc' is not a valid integer value; 'abc' is not an ISO 8601 datetime"


class TestEnum:
    def test_unknown_member_lists_the_members(self) -> None:
        (item,) = query_error("method=wg").errors
        assert item.msg == "'wg' is not one of: RS, CS, AT, TR, TD, WE, WG, WT, MD, HE, IH, IF"
        (item,) = query_error("method__in=WG,XX").errors
        assert item.msg.startswith("'XX' is not one of: RS, CS")

    async def test_text_operators_compare_the_name(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        assert await run_filters(session, "method__iexact=wg") == ["alpha"]
        assert await run_filters(session, "method__icontains=g") == ["alpha"]


class TestSecrets:
    """A secret column does not exist for the query language: same error, same message."""

    def test_secret_is_refused_like_an_unknown_field(self) -> None:
        secret = query_error("created_by__password__startswith=x")
        unknown = query_error("created_by__passwort__startswith=x")
        assert (secret.code, secret.slug, secret.status) == (unknown.code, unknown.slug, 400)
        (s_item,), (u_item,) = secret.errors, unknown.errors
        assert s_item.type == u_item.type == "unknown_field"
        assert s_item.msg == u_item.msg.replace("passwort", "password")
        assert "password" not in s_item.msg.split("valid: ")[1].split(", ")

    def test_secret_is_not_a_valid_name(self) -> None:
        (item,) = query_error("created_by__nope=x").errors
        assert "username" in item.msg
        assert "password" not in item.msg

    def test_secret_cannot_be_searched(self) -> None:
        with pytest.raises(QueryError) as info:
            compile_search(Technique, "x", ("name", "created_by__password"))
        assert [(e.loc, e.type) for e in info.value.errors] == [
            (("query", "search"), "unknown_field")
        ]

    def test_secret_cannot_order(self) -> None:
        with pytest.raises(QueryError) as info:
            apply_ordering(select(Technique), Technique, "created_by__password", param="ordering")
        (item,) = info.value.errors
        assert item.type == "invalid_ordering"
        assert "unknown field 'password' on User" in item.msg


class TestNegation:
    async def test_null_rows_are_in_the_complement(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        positive = await run_filters(session, "notes__icontains=r")
        negative = await run_filters(session, "notes__icontains!=r")
        assert positive == ["alpha"]
        assert "Beta" in negative  # notes is NULL
        assert sorted(positive + negative) == sorted(dataset.techniques)

    def test_to_many_negation_is_not_exists(self) -> None:
        sql = compiled_sql("tags__name!=x", postgresql.dialect())
        assert "WHERE NOT coalesce(EXISTS (SELECT 1" in sql
        assert "JOIN" not in sql

    def test_to_many_is_exists_without_join(self) -> None:
        sql = compiled_sql("tags=x&tags__name__icontains=y", postgresql.dialect())
        assert sql.count("EXISTS (SELECT 1") == 2
        assert "JOIN" not in sql

    def test_to_one_fk_is_compared_without_a_subquery(self) -> None:
        sql = compiled_sql("created_by__id=1", postgresql.dialect())
        assert "technique.created_by_id = " in sql
        assert "EXISTS" not in sql

    async def test_to_many_rows_never_repeat(self, session: AsyncSession, dataset: Dataset) -> None:
        # alpha has two tags containing "e": a join would list it twice.
        names = await run_filters(session, "tags__name__icontains=e&created_by=alice")
        assert names == ["alpha", "delta"]


def compiled_sql(query: str, dialect: Any) -> str:
    _, conditions = parse_params(split_query_string(query), ())
    stmt = select(Technique.id).where(*compile_filters(Technique, conditions, ALIASES))
    return str(stmt.compile(dialect=dialect))


class TestBoundParameters:
    """No value reaches SQL text: markers in values and JSON keys never appear in it."""

    QUERIES = (
        "name=zqv'--",
        "name__icontains=zqv%25",
        "name__like=zqv_",
        "name__regex=zqv.",
        "name__in=zqv1,zqv2",
        "custom_fields__zqk__icontains=zqv",
        "custom_fields__zqk__gt=5",
        "custom_fields__zqk__has_key=zqv",
        "custom_fields=%22zqv%22",
        "[name,notes]__iexact=zqv",
        "created__year=2016",
    )

    @pytest.mark.parametrize(
        "dialect", [postgresql.dialect(), sqlite.dialect()], ids=["pg", "sqlite"]
    )
    @pytest.mark.parametrize("query", QUERIES)
    def test_values_are_bound(self, query: str, dialect: Any) -> None:
        sql = compiled_sql(query, dialect)
        assert "zq" not in sql
        assert "2016" not in sql


class TestCompilationCache:
    """JSON paths and transform parts live outside the bound values: they must be part of
    the statement cache key, or a second query would run with the first one's path."""

    async def test_json_paths(self, session: AsyncSession, dataset: Dataset) -> None:
        assert await run_filters(session, "custom_fields__a__b__icontains=e") == ["Beta", "alpha"]
        assert await run_filters(session, "custom_fields__flag__icontains=e") == [
            "Beta",
            "alpha",
            "gamma 50%_off",
        ]
        assert await run_filters(session, "custom_fields__has_key=flag") == [
            "Beta",
            "alpha",
            "gamma 50%_off",
        ]
        assert await run_filters(session, "custom_fields__has_key=list") == ["alpha"]

    async def test_cached_statement_takes_new_values(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        for _ in range(2):
            assert await run_filters(session, "custom_fields__a__b__icontains=hello") == ["alpha"]
            assert await run_filters(session, "custom_fields__a__b__icontains=other") == ["Beta"]
            assert await run_filters(session, "created__year=2017") == ["Beta"]
            assert await run_filters(session, "created__year=2018") == ["delta"]

    async def test_transform_parts(self, session: AsyncSession, dataset: Dataset) -> None:
        assert await run_filters(session, "created__month=6") == ["alpha", "Épsilon"]
        assert await run_filters(session, "created__day=6") == []
        assert await run_filters(session, "created__hour=21") == ["alpha"]
        assert await run_filters(session, "created__day=21") == []


class TestOrdering:
    @pytest.mark.parametrize(
        ("query", "expected"), ORDERINGS, ids=[q or "default" for q, _ in ORDERINGS]
    )
    async def test_case(
        self, session: AsyncSession, dataset: Dataset, query: str, expected: tuple[str, ...]
    ) -> None:
        assert await run_filters(session, query, ordered=True) == list(expected)

    @pytest.mark.parametrize(("raw", "count"), ORDERING_ERRORS, ids=[r for r, _ in ORDERING_ERRORS])
    def test_refused(self, raw: str, count: int) -> None:
        with pytest.raises(QueryError) as info:
            apply_ordering(select(Technique), Technique, raw, param="ordering", aliases=ALIASES)
        assert [(e.loc, e.type) for e in info.value.errors] == [
            (("query", "ordering"), "invalid_ordering")
        ] * count
        assert info.value.code == "LAB104"

    def test_to_many_is_refused_with_a_reason(self) -> None:
        with pytest.raises(QueryError) as info:
            apply_ordering(select(Technique), Technique, "tags", param="o", aliases=ALIASES)
        (item,) = info.value.errors
        assert item.loc == ("query", "o")
        assert item.msg == "cannot order by 'tags': it crosses a to-many relation"

    def test_unknown_field_lists_the_valid_ones(self) -> None:
        with pytest.raises(QueryError) as info:
            apply_ordering(select(Technique), Technique, "nope", param="ordering")
        (item,) = info.value.errors
        assert item.msg.startswith("cannot order by 'nope': unknown field 'nope' on Technique")
        assert "valid: " in item.msg
        assert ", name, " in item.msg

    def test_primary_key_is_the_final_tiebreaker(self) -> None:
        stmt = apply_ordering(select(Technique.id), Technique, "category", param="ordering")
        sql = str(stmt.compile(dialect=postgresql.dialect()))
        assert sql.endswith("ORDER BY technique.category ASC NULLS LAST, technique.id")
        stmt = apply_ordering(select(Technique.id), Technique, "-pk", param="ordering")
        sql = str(stmt.compile(dialect=postgresql.dialect()))
        assert sql.endswith("ORDER BY technique.id DESC NULLS FIRST")

    def test_related_path_joins_once(self) -> None:
        stmt = apply_ordering(
            select(Technique.id),
            Technique,
            "created_by__username,-created_by__email",
            param="ordering",
        )
        sql = str(stmt.compile(dialect=sqlite.dialect()))
        assert sql.count("LEFT OUTER JOIN auth_user") == 1

    def test_default_ordering(self) -> None:
        stmt = apply_ordering(
            select(Technique.id), Technique, None, param="ordering", default=("-created",)
        )
        sql = str(stmt.compile(dialect=sqlite.dialect()))
        assert sql.endswith("ORDER BY technique.created DESC NULLS FIRST, technique.id")

    @pytest.mark.parametrize(
        ("raw", "parsed"),
        [
            ("a,-b", [("a", False), ("b", True)]),
            (" a , ,-b ", [("a", False), ("b", True)]),
            ("+a", [("a", False)]),
            ("", []),
        ],
    )
    def test_parse_ordering(self, raw: str, parsed: list[tuple[str, bool]]) -> None:
        assert parse_ordering(raw) == parsed


class TestSearch:
    @pytest.mark.parametrize(
        ("raw", "terms"),
        [
            ("a b", ["a", "b"]),
            ("a,b", ["a", "b"]),
            (" a ,, b\tc\n", ["a", "b", "c"]),
            ("", []),
            (" , ", []),
            ("a\x00b", ["ab"]),
        ],
    )
    def test_terms(self, raw: str, terms: list[str]) -> None:
        assert search_terms(raw) == terms

    async def test_every_term_must_match_some_field(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        stmt = select(Technique.name).where(
            *compile_search(Technique, "rna 50", ("name", "category"))
        )
        assert (await session.scalars(stmt)).all() == ["gamma 50%_off"]

    async def test_without_search_fields_search_is_ignored(
        self, session: AsyncSession, dataset: Dataset
    ) -> None:
        # DRF's SearchFilter leaves a view without search fields unfiltered.
        assert compile_search(Technique, "rna 50", ()) == []

    async def test_search_through_a_relation(self, session: AsyncSession, dataset: Dataset) -> None:
        stmt = select(Technique.name).where(
            *compile_search(Technique, "ALI", ("name", "created_by__username", "tags__name"))
        )
        assert sorted((await session.scalars(stmt)).all()) == ["alpha", "delta"]


class TestParamLocations:
    def test_negated_param_keeps_its_bang(self) -> None:
        assert parse_param("name!", "x").param == "name!"
        (item,) = query_error("pk!=abc").errors
        assert item.loc == ("query", "pk!")
