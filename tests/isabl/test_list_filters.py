"""List filters through HTTP: every filter parameter the reference names for each resource,
then operators, negation, combined lookups, datetime transforms and JSON keys."""

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.api.factory import ResourceSpec
from labapi.isabl.specs import REGISTRY
from tests.isabl.cases import REFERENCE_FILTERS, SPECS, assert_problem, list_url, pks
from tests.isabl.factories import (
    FACTORIES,
    make_assembly,
    make_center,
    make_tag,
    make_technique,
    make_user,
)

# Two distinct values per field, for the first and the second object.
VALUES: dict[str, tuple[Any, Any]] = {
    "name": ("Alpha", "Beta"),
    "acronym": ("ALP", "BET"),
    "slug": ("alpha-slug", "beta-slug"),
    "manufacturer": ("Alpha", "Beta"),
    "system": ("Alphasys", "Betasys"),
    "version": ("1.0", "2.0"),
    "method": ("WG", "TR"),
    "species": ("HUMAN", "MOUSE"),
    "notes": ("alpha note", "beta note"),
    "storage_url": ("/alpha", "/beta"),
    "storage_usage": (1, 2),
    "custom_fields": ({"k": "alpha"}, {"k": "beta"}),
    "data": ({"k": "alpha", "n": 1}, {"k": "beta", "n": 2}),
    "reference_data": ({"fasta": "/alpha.fa"}, {"fasta": "/beta.fa"}),
    "identifier": ("alpha-id", "beta-id"),
    "system_id": ("ALP_H000001", "BET_H000002"),
    "gender": ("FEMALE", "MALE"),
    "birth_year": (1950, 1990),
    "collection_days": (10, 20),
    "bam_files": ({"GRCh37": {"url": "/alpha.bam"}}, {"GRCh38": {"url": "/beta.bam"}}),
    "title": ("Alpha title", "Beta title"),
    "short_title": ("alpha-short", "beta-short-title"),
    "description": ("alpha project", "beta project"),
    "principal_investigator": ("pi@alpha.org", "pi@beta.org"),
    "owner": ("owner@alpha.org", "owner@beta.org"),
    "analyst": ("analyst@alpha.org", "analyst@beta.org"),
    "coordinator": ("coord@alpha.org", "coord@beta.org"),
    "status": ("CREATED", "FAILED"),
    "previous_status": ("STAGED", "STARTED"),
    "ran_by": ("alpha", "beta"),
    "results": ({"bam": "/alpha.bam"}, {"bam": "/beta.bam"}),
    "run_time": (1.5, 2.5),
    "wait_time": (10, 20),
    "application_class": ("apps.Alpha", "apps.Beta"),
    "url": ("https://alpha.org", "https://beta.org"),
    "settings": ({"k": "alpha"}, {"k": "beta"}),
    "import_string": ("signals.alpha", "signals.beta"),
    "target_endpoint": ("analyses", "experiments"),
    "target_id": (1, 2),
    "field_name": ("alpha_field", "beta_field"),
    "model": ("isabl_api.Individual", "isabl_api.Sample"),
    "verbose_name": ("Alpha field", "Beta field"),
    "configuration": ({"type": "string"}, {"type": "integer"}),
}
# Filters whose value is read from the first object's representation.
FROM_REPRESENTATION = {
    "id": "pk",
    "pk": "pk",
    "uuid": "uuid",
    "uupk": "uuid",
    "created": "created",
    "modified": "modified",
    "created_by": "created_by",
    "category": "category",
}

FILTER_CASES = [
    pytest.param(SPECS[name], param, id=f"{name}-{param}")
    for name, params in REFERENCE_FILTERS.items()
    for param in params
]


def test_every_resource_has_its_reference_filters() -> None:
    assert {spec.name for spec in REGISTRY} == set(REFERENCE_FILTERS)


async def _pair(
    spec: ResourceSpec, session: AsyncSession
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Two objects whose every filterable field differs; their overrides by field."""
    fields = {column.key for column in spec.model.__mapper__.column_attrs}
    overrides: list[dict[str, Any]] = [{}, {}]
    for name, values in VALUES.items():
        if name in fields:
            for index in (0, 1):
                overrides[index][name] = values[index]
    if spec.search and spec.search[0] in VALUES:
        for index in (0, 1):
            overrides[index][spec.search[0]] = VALUES[spec.search[0]][index]
    if "created_by_id" in fields:
        for index, who in enumerate(("alpha-user", "beta-user")):
            overrides[index]["created_by"] = await make_user(session, username=who)
            overrides[index]["tags"] = [await make_tag(session, name=f"{who}-tag")]
    objects = [await FACTORIES[spec.name](session, **values) for values in overrides]
    return overrides, {"ids": [obj.id for obj in objects]}


class TestListFilters:
    @pytest.mark.parametrize(("spec", "param"), FILTER_CASES)
    async def test_reference_filter_selects_the_matching_object(
        self, client: httpx.AsyncClient, session: AsyncSession, spec: ResourceSpec, param: str
    ) -> None:
        overrides, made = await _pair(spec, session)
        first, second = made["ids"]
        rendered = (await client.get(f"{list_url(spec)}/{first}")).json()
        if param in FROM_REPRESENTATION:
            value = str(rendered[FROM_REPRESENTATION[param]])
        elif param == "tags":
            value = rendered["tags"][0]["name"]
        elif param not in VALUES and isinstance(rendered.get(param), dict):  # relation: pk
            value = str(rendered[param]["pk"])
        elif param == "search":
            value = VALUES[spec.search[0]][0].lower()
        else:
            raw = overrides[0][param]
            value = json.dumps(raw) if isinstance(raw, dict) else str(raw)
        response = await client.get(list_url(spec), params={param: value})
        assert pks(response) == [first], (param, value)
        negated = await client.get(list_url(spec), params={f"{param}!": value})
        if param != "search":
            assert pks(negated) == [second], (param, value)


class TestListOperators:
    async def test_text_operators(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        alpha = await make_center(session, name="Alpha Center", acronym="AC")
        beta = await make_center(session, name="beta center", acronym="BC")
        cases = {
            "name__icontains=CENTER": [alpha.id, beta.id],
            "name__contains=Center": [alpha.id],
            "name__iexact=ALPHA CENTER": [alpha.id],
            "name__startswith=beta": [beta.id],
            "name__istartswith=BETA": [beta.id],
            "name__endswith=Center": [alpha.id],
            "name__iendswith=CENTER": [alpha.id, beta.id],
            "name__in=Alpha Center,nothing": [alpha.id],
            "name__regex=^[a-z]": [beta.id],
            "name__iregex=^ALPHA": [alpha.id],
            "name__like=%25a C%25": [alpha.id],
            "name__icontainsall=alpha,center": [alpha.id],
            "acronym__gt=AC": [beta.id],
            "acronym__range=AA,AZ": [alpha.id],
            "notes__isnull": [alpha.id, beta.id],
            "notes__isnull=False": [],
        }
        for query, expected in cases.items():
            assert pks(await client.get(f"/api/v1/centers?{query}")) == expected, query

    async def test_contains_values_are_literal(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        percent = await make_center(session, name="100% sure", acronym="P")
        await make_center(session, name="100 sure", acronym="Q")
        response = await client.get("/api/v1/centers", params={"name__contains": "0%"})
        assert pks(response) == [percent.id]

    async def test_negation_is_the_complement(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        one, two, three = [await make_center(session) for _ in range(3)]
        await make_center(session, notes="x")
        response = await client.get(f"/api/v1/centers?id__in!={one.id},{two.id}")
        assert pks(response)[0] == three.id
        assert len(pks(response)) == 2
        assert pks(await client.get(f"/api/v1/centers?name!={one.name}"))[:2] == [two.id, three.id]
        # NULL notes included, as Django's exclude() does.
        assert pks(await client.get("/api/v1/centers?notes!=x")) == [one.id, two.id, three.id]

    async def test_combined_lookup_ors_its_parts(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        by_name = await make_center(session, name="Zebra Center", acronym="ZC")
        by_acronym = await make_center(session, name="Other", acronym="ZEB")
        await make_center(session, name="None", acronym="NO")
        key = "[name,acronym]__icontains"
        for raw_key in (key, quote(key), quote(key, safe="")):
            response = await client.get(f"/api/v1/centers?{raw_key}=zeb")
            assert pks(response) == [by_name.id, by_acronym.id], raw_key
        response = await client.get("/api/v1/centers?[name__icontains,acronym__iexact]=zeb")
        assert pks(response) == [by_name.id, by_acronym.id]
        response = await client.get("/api/v1/centers?[name,acronym]__icontains!=zeb")
        assert len(pks(response)) == 1

    async def test_separate_parameters_and_together(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        both = await make_center(session, name="Alpha", acronym="ONE")
        await make_center(session, name="Alpha", acronym="TWO")
        await make_center(session, name="Beta", acronym="ONE1")
        response = await client.get("/api/v1/centers?name=Alpha&acronym__startswith=ONE")
        assert pks(response) == [both.id]

    async def test_datetime_transforms(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        then = dt.datetime(2016, 6, 4, 21, 0, 51, tzinfo=dt.UTC)  # a Saturday
        old = await make_center(session, created=then)
        new = await make_center(session, created=then + dt.timedelta(days=400, hours=1, minutes=7))
        cases = {
            "created__year=2016": [old.id],
            "created__month=6": [old.id],
            "created__day=4": [old.id],
            "created__week_day=7": [old.id],
            "created__hour=21": [old.id],
            "created__minute=0": [old.id],
            "created__time=21:00:51": [old.id],
            "created__date=2016-06-04": [old.id],
            "created__date__lte=2016-06-04": [old.id],
            "created__year__gte=2017": [new.id],
            "created__year__gt=2017": [],
            "created__lt=2016-06-05": [old.id],
            "created__range=2016-01-01,2016-12-31": [old.id],
        }
        for query, expected in cases.items():
            assert pks(await client.get(f"/api/v1/centers?{query}")) == expected, query
        later = await client.get("/api/v1/centers?created__date__gte=2016-06-05")
        assert pks(later) == [new.id]

    async def test_rendered_datetimes_find_their_object(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        whole_second = await make_center(
            session, created=dt.datetime(2016, 6, 4, 21, 0, 51, tzinfo=dt.UTC)
        )
        with_micros = await make_center(
            session, created=dt.datetime(2016, 6, 4, 21, 0, 51, 120, tzinfo=dt.UTC)
        )
        for obj in (whole_second, with_micros):
            rendered = (await client.get(f"/api/v1/centers/{obj.id}")).json()
            for field in ("created", "modified"):
                response = await client.get("/api/v1/centers", params={field: rendered[field]})
                assert pks(response) == [obj.id], (field, rendered[field])
        assert (await client.get(f"/api/v1/centers/{whole_second.id}")).json()[
            "created"
        ] == "2016-06-04T21:00:51Z"

    async def test_json_keys(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        first = await make_center(session, custom_fields={"lab": "Alpha", "n": 5, "ok": True})
        second = await make_center(session, custom_fields={"lab": "beta", "n": 40})
        cases = {
            "custom_fields__lab=Alpha": [first.id],
            "custom_fields__lab__icontains=ALP": [first.id],
            "custom_fields__n__gt=10": [second.id],
            "custom_fields__ok=True": [first.id],
            "custom_fields__has_key=ok": [first.id],
            "custom_fields__ok__isnull": [second.id],
            "custom_fields__lab!=Alpha": [second.id],
        }
        for query, expected in cases.items():
            assert pks(await client.get(f"/api/v1/centers?{query}")) == expected, query

    async def test_tags_shorthand_and_paths(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        tumor, normal = (
            await make_tag(session, name="tumor"),
            await make_tag(session, name="normal"),
        )
        both = await make_center(session, tags=[tumor, normal])
        one = await make_center(session, tags=[normal])
        untagged = await make_center(session)
        cases = {
            "tags=tumor": [both.id],
            "tags=normal": [both.id, one.id],
            "tags__name__in=tumor,normal": [both.id, one.id],
            "tags__name__icontains=TUM": [both.id],
            f"tags__pk={tumor.id}": [both.id],
            "tags!=tumor": [one.id, untagged.id],
            "tags__isnull": [untagged.id],
            "tags=normal&tags=tumor": [both.id],
        }
        for query, expected in cases.items():
            assert pks(await client.get(f"/api/v1/centers?{query}")) == expected, query

    async def test_created_by_shorthand_and_paths(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann, bob = (
            await make_user(session, username="ann"),
            await make_user(session, username="bob"),
        )
        by_ann = await make_technique(session, created_by=ann)
        by_bob = await make_technique(session, created_by=bob)
        cases = {
            "created_by=ann": [by_ann.id],
            "created_by__username__startswith=b": [by_bob.id],
            f"created_by__id={bob.id}": [by_bob.id],
            "created_by__isnull": [],
        }
        for query, expected in cases.items():
            assert pks(await client.get(f"/api/v1/techniques?{query}")) == expected, query

    async def test_enum_filters(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        human = await make_assembly(session, species="HUMAN")
        mouse = await make_assembly(session, species="MOUSE")
        wgs = await make_technique(session, method="WG")
        rna = await make_technique(session, method="TR")
        cases = {
            "/api/v1/assemblies?species=MOUSE": [mouse.id],
            "/api/v1/assemblies?species__iexact=human": [human.id],
            "/api/v1/assemblies?species__in=HUMAN,MOUSE": [human.id, mouse.id],
            "/api/v1/techniques?method__in!=WG": [rna.id],
            "/api/v1/techniques?category=RNA": [rna.id],
            "/api/v1/techniques?category__in=DNA,IMAGING": [wgs.id],
        }
        for url, expected in cases.items():
            assert pks(await client.get(url)) == expected, url
        problem = assert_problem(
            await client.get("/api/v1/assemblies?species=DOG"), 400, locs=[["query", "species"]]
        )
        assert "HUMAN" in problem["errors"][0]["msg"]

    async def test_search_terms_must_all_match(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        both = await make_center(session, name="Memorial Sloan", acronym="MSK")
        await make_center(session, name="Memorial Other", acronym="MO")
        await make_center(session, name="Sloan Other", acronym="SO")
        for term in ("memorial sloan", "sloan,MEMORIAL", "memorial  msk"):
            assert pks(await client.get("/api/v1/centers", params={"search": term})) == [both.id]
        assert len(pks(await client.get("/api/v1/centers?search="))) == 3

    async def test_format_json_is_accepted_and_ignored(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        center = await make_center(session)
        for query in ("format=json", "format=json&format=json", f"format=json&pk={center.id}"):
            assert pks(await client.get(f"/api/v1/centers?{query}")) == [center.id], query

    async def test_value_of_the_wrong_type_is_a_400(self, client: httpx.AsyncClient) -> None:
        cases = {
            "pk=abc": "pk",
            "storage_usage__gte=lots": "storage_usage__gte",
            "created=yesterday": "created",
            "uuid=not-a-uuid": "uuid",
            "created__year=twenty": "created__year",
            "custom_fields=not json": "custom_fields",
        }
        for query, param in cases.items():
            response = await client.get(f"/api/v1/centers?{query}")
            problem = assert_problem(response, 400, locs=[["query", param]])
            assert problem["errors"][0]["type"] == "invalid_value", query
