"""Representations and writes of the facility classes: the substock's keys are the
reference's examples 2 and 3; other classes follow the generated simple/detail forms;
writes are validated, answer 201 with the simple form and append to the action log."""

import datetime as dt

from sqlalchemy import inspect as sa_inspect

from labapi.facility.specs import REGISTRY
from tests.facility.conftest import Facility

# Copied from the reference, example 2 ("Substock simple").
EXAMPLE_2_KEYS = [
    "id", "count", "substock_num", "name_gen", "facility_name_gen", "list_name_gen",
    "suffix", "date_of_death", "status", "sex_id", "sex_name", "productivity",
    "dominant_tag_id", "dominant_tag_name", "position_id", "position_name", "light_id",
    "light_name", "diet_id", "diet_name", "stock_id", "parent_input_id",
    "crossing_parent_input_id", "substockuse_id", "substockuse_name", "description",
    "active", "project_id", "project_name", "project_name_gen", "current_author_id",
    "updated", "burdened", "to_print", "last_print", "experiment_id", "experiment_name",
    "experiment_name_gen", "most_severe_action_id", "actually_counted_to_experiment",
    "reused", "funding_id", "funding_name", "maturity", "age", "age_weeks",
    "local_stock_id", "status_cssclass", "icon", "position_fullname", "position_width",
    "facility_link", "date_of_birth", "generation", "printed", "tags", "dominant_tag",
    "dominant_tag_html", "tags_html", "max_severity_id", "species_id", "species_name",
    "full_description",
]  # fmt: skip
# Copied from the reference, example 3 ("Substock detailed"): example 2's keys, then these.
EXAMPLE_3_EXTRA_KEYS = [
    "genotypes_zygosities", "latest_crossings", "eggquantity_cssclass",
    "eggquality_cssclass", "egg_quantity_avg", "egg_quality_avg", "background_id",
    "background_name", "owners", "project", "projects", "experimental_project",
    "workgroups", "fishline_id", "fishline_name", "fishline_name_gen",
    "fishline_attachments", "responsible", "responsible_id", "rack_id", "rack_name",
    "room_id", "room_name", "stock_name", "species_settings", "diet_cssclass",
    "light_cssclass", "experiment_cssclass", "binary_experiment_cssclass",
    "printed_cssclass", "reused_cssclass", "reused_icon", "most_severe_action", "parents",
    "inputs",
]  # fmt: skip


async def test_substock_keys_are_the_references(client, facility: Facility):
    ident = facility["ss_ubi"].id
    simple = (await client.get(f"/api/substock/?id={ident}")).json()["data"][0]
    assert list(simple) == EXAMPLE_2_KEYS
    detail = (await client.get(f"/api/substock/{ident}?detail")).json()
    assert list(detail) == EXAMPLE_2_KEYS + EXAMPLE_3_EXTRA_KEYS
    listed = (await client.get(f"/api/substock/?id={ident}&detail")).json()["data"][0]
    assert listed == detail


async def test_substock_derived_fields(client, facility: Facility):
    detail = (await client.get(f"/api/substock/{facility['ss_ubi'].id}?detail")).json()
    age = (dt.datetime.now(dt.UTC).date() - dt.date(2023, 12, 13)).days
    assert detail["name_gen"] == "ubi:GFP<sup>+</sup> 2023-12-13/1  (12)"
    assert detail["facility_name_gen"] == detail["list_name_gen"] == "ubi:GFP<sup>+</sup>"
    assert (detail["age"], detail["age_weeks"]) == (age, age // 7)
    assert detail["maturity"] == detail["icon"] == "adult"
    assert detail["position_fullname"] == "F09:E01"
    rack, position = facility["rack_09"].id, facility["e01"].id
    assert detail["facility_link"] == f"/facility?rack_id={rack}&highlight={position}"
    assert detail["full_description"] == "fishline: GMO APPROVED: 2012"
    assert detail["fishline_name_gen"] == "-3.5ubi:GFP"
    assert (detail["rack_name"], detail["room_name"]) == ("09", "F")
    assert detail["stock_name"] == "ubi:GFP 2023-12-13/1"
    assert detail["genotypes_zygosities"][0]["zygosity_name"] == "+"
    assert detail["workgroups"][0]["name"] == "Bartunek"
    two = (await client.get(f"/api/substock/{facility['ss_e55'].id}")).json()
    assert two["name_gen"] == "abc:B52-E55<sup>+/-</sup> 2024-02-01/1  (1)"
    assert (two["status_cssclass"], two["position_fullname"]) == ("productive", None)


async def test_simple_and_detail_forms_of_every_class(client, facility: Facility):
    for spec in REGISTRY:
        if spec.name == "substock" or spec.model.__name__ == "Input":
            continue
        mapper = sa_inspect(spec.model)
        simple = (await client.get(f"/api/{spec.name}/?pg_size=1")).json()
        detail = (await client.get(f"/api/{spec.name}/?pg_size=1&detail")).json()
        assert simple["meta"]["page_size"] == 1, spec.name
        if not simple["data"]:
            continue
        row, full = simple["data"][0], detail["data"][0]
        for rel in mapper.relationships:
            if rel.info.get("secret") or rel.viewonly:
                continue
            assert rel.key not in row, (spec.name, rel.key)
            if rel.uselist:
                assert isinstance(full[rel.key], list), (spec.name, rel.key)
            else:
                fk = next(iter(rel.local_columns)).key
                assert fk in row, (spec.name, rel.key)
                assert rel.key in full, (spec.name, rel.key)
                if "name" in rel.mapper.attrs:
                    assert f"{rel.key}_name" in row, (spec.name, rel.key)
    user = (await client.get("/api/user/?pg_size=0")).json()["data"]
    assert all("password" not in row for row in user)


async def test_describe_names_fields_and_permissions(client):
    body = (await client.get("/api/substock/describe")).json()
    assert body["create"]["required"] == ["stock_id"]
    assert "position_id" in body["create"]["optional"]
    assert "tags" in body["update"]["optional"]
    assert body["permissions"]["create"] == "facility.add_substock"
    assert body["permissions"]["delete"] == "facility.delete_substock"
    assert body["permissions"]["list"] is None
    assert (await client.get("/api/fishline/describe")).json()["create"]["required"] == ["name"]
    stock = (await client.get("/api/stock/describe")).json()["create"]["required"]
    assert stock == ["fishline_id", "date_of_birth"]
    user = (await client.get("/api/user/describe")).json()
    assert "create" not in user
    assert user["actions"] == ["list", "read", "describe"]


async def _log(client, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return (await client.get(f"/api/input/?{query}&o=id")).json()["data"]


async def test_writes_are_validated_and_logged(client, facility: Facility, superuser):
    # (method, path, body, status) in order; `{x}` names a fixture object's id.
    ids = {k: getattr(v, "id", None) for k, v in facility.objects.items()}
    bad = [
        ("POST", "/api/background/", {}, 400),
        ("POST", "/api/background/", {"name": "x" * 101}, 400),
        ("POST", "/api/fishline/", {"name": "f", "background_id": 999999}, 400),
        ("POST", "/api/fishline/", {"name": "f", "genotypes": [999999]}, 400),
        ("POST", "/api/stock/", {"fishline_id": ids["wt"]}, 400),
        ("POST", "/api/stock/", {"fishline_id": ids["wt"], "date_of_birth": "soon"}, 400),
        ("POST", "/api/substock/", {"stock_id": ids["st_wt"], "status": "asleep"}, 400),
        ("POST", "/api/substock/", {"stock_id": ids["st_wt"], "count": "many"}, 400),
        ("PATCH", f"/api/substock/{ids['ss_wt']}", {"count": None}, 400),
        ("PATCH", "/api/substock/999999", {"count": 1}, 404),
    ]
    for method, path, body, status in bad:
        response = await client.request(method, path, json=body)
        assert response.status_code == status, (method, path, body, response.text)
        if status == 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    created = await client.post(
        "/api/fishline/",
        json={"name": "Tg(x)", "background_id": ids["tu"], "genotypes": [ids["gfp"]]},
    )
    assert created.status_code == 201, created.text
    fishline = created.json()
    assert fishline["background_name"] == "TU"
    assert "genotypes" not in fishline
    assert fishline["name_gen"] == "-3.5ubi:GFP"
    stock = await client.post(
        "/api/stock/", json={"fishline_id": fishline["id"], "date_of_birth": "2024-03-01"}
    )
    again = await client.post(
        "/api/stock/", json={"fishline_id": fishline["id"], "date_of_birth": "2024-03-01"}
    )
    assert (stock.json()["stock_num"], again.json()["stock_num"]) == (1, 2)
    assert stock.json()["local_stock_id"] == str(stock.json()["id"])
    substock = await client.post("/api/substock/", json={"stock_id": stock.json()["id"]})
    assert substock.status_code == 201, substock.text
    new = substock.json()
    assert (new["count"], new["sex_name"], new["status"], new["position_id"]) == (
        0,
        "unknown",
        "unproductive",
        None,
    )
    assert new["name_gen"] == "Tg(x) 2024-03-01/1  (1)"
    moved = await client.patch(
        f"/api/substock/{new['id']}", json={"position_id": ids["e01"], "count": 12}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["position_fullname"] == "F09:E01"
    deleted = await client.delete(f"/api/substock/{new['id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"/api/substock/?id={new['id']}")).json()["data"] == []
    assert (await client.get(f"/api/substock/?id={new['id']}&_all")).json()["data"][0][
        "active"
    ] is False
    records = await _log(client, substock_id=new["id"])
    assert [r["type"] for r in records] == ["create", "transfer", "delete"]
    transfer = records[1]
    assert transfer["user"] == superuser.username
    assert transfer["changes"]["position_id"] == [None, ids["e01"]]
    assert transfer["changes"]["count"] == [0, 12]
    assert (transfer["count_at_start"], transfer["position_at_start"]) == (0, None)
    transfers = (await client.get(f"/api/input_transfer/?substock_id={new['id']}")).json()
    assert [r["id"] for r in transfers["data"]] == [transfer["id"]]
    line_log = await _log(client, item_type="fishline", item_id=fishline["id"])
    assert line_log[0]["changes"]["genotypes"] == [None, [ids["gfp"]]]
    # An `input_<type>` class creates records of its type.
    counted = await client.post("/api/input_count/", json={"substock_id": ids["ss_wt"]})
    assert counted.status_code == 201
    assert counted.json()["type"] == "count"
    assert (await client.get(f"/api/input_split/{counted.json()['id']}")).status_code == 404
    # M:N lists are replaced whole.
    patched = await client.patch(
        f"/api/fishline/{fishline['id']}?detail", json={"genotypes": [ids["mcherry"]]}
    )
    assert patched.status_code == 200, patched.text
    detail = (await client.get(f"/api/fishline/{fishline['id']}?detail")).json()
    assert [g["id"] for g in detail["genotypes"]] == [ids["mcherry"]]
