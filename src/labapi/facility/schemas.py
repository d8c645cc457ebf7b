"""Representations and bodies of the facility surface (SPEC §6).

Most classes are plain tables, so their schemas are built from the model: the simple form
has every column (derived `column_property`s included) plus `<relation>_name` for each
to-one relation; the detail form adds the related objects and the M:N lists (columns
only, one level deep); bodies take the writable columns (`<relation>_id`) and M:N lists of
ids. The substock and the action log are written out by hand: their keys are the
reference's examples.
"""

import datetime as dt
from functools import cache
from typing import Any, ClassVar

from pydantic import AliasPath, BaseModel, ConfigDict, Field, create_model, model_validator
from sqlalchemy import Column, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty

from labapi.api.rows import Rows, View, public_columns
from labapi.facility.models import (
    Input,
    Substock,
    SubstockGenotype,
    input_type_name,
    maturity,
)

# Columns the server keeps: never in bodies.
SERVER_COLUMNS = ("id", "created", "updated")


class Schema(BaseModel):
    """Base of every facility schema: reads ORM objects, ignores unknown body keys."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=(), extra="ignore")


def _python_type(column: Any) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return Any


def _label_attr(model: type[Any]) -> str | None:
    """The attribute naming an object of `model` in `<relation>_name`."""
    for name in ("name", "username"):
        if name in sa_inspect(model).attrs:
            return name
    return None


def to_one(model: type[Any]) -> dict[str, RelationshipProperty[Any]]:
    """The many-to-one relations of a model, by name."""
    return {r.key: r for r in sa_inspect(model).relationships if not r.uselist}


def to_many(model: type[Any]) -> dict[str, RelationshipProperty[Any]]:
    """The M:N relations of a model (through a link table), by name."""
    return {
        r.key: r for r in sa_inspect(model).relationships if r.uselist and r.secondary is not None
    }


@cache
def flat_read(model: type[Any]) -> type[BaseModel]:
    """An object nested in another: its columns only."""
    fields: dict[str, Any] = {
        name: (_python_type(column) | None, None) for name, column in public_columns(model)
    }
    return create_model(f"Facility{model.__name__}Flat", __base__=Schema, **fields)  # type: ignore[call-overload, no-any-return]


def _simple_fields(model: type[Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        name: (_python_type(column) | None, None) for name, column in public_columns(model)
    }
    for name, rel in to_one(model).items():
        label = _label_attr(rel.mapper.class_)
        if label is not None and f"{name}_name" not in fields:
            alias = AliasPath(name, label)
            fields[f"{name}_name"] = (str | None, Field(None, validation_alias=alias))
    return fields


@cache
def simple_read(model: type[Any]) -> type[BaseModel]:
    """The simple form: columns, `<relation>_id` and `<relation>_name`."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"Facility{model.__name__}Read", __base__=Schema, **_simple_fields(model)
    )


@cache
def detail_read(model: type[Any]) -> type[BaseModel]:
    """The detail form: the simple one, the related objects and the M:N lists."""
    fields = _simple_fields(model)
    for name, rel in to_one(model).items():
        fields[name] = (flat_read(rel.mapper.class_) | None, None)
    for name, rel in to_many(model).items():
        fields[name] = (list[flat_read(rel.mapper.class_)], [])  # type: ignore[misc]
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"Facility{model.__name__}Detail", __base__=Schema, **fields
    )


def _writable(model: type[Any], exclude: tuple[str, ...]) -> list[Column[Any]]:
    table_columns = set(sa_inspect(model).local_table.columns)
    return [
        column
        for _, column in public_columns(model)
        if column in table_columns and column.key not in (*SERVER_COLUMNS, *exclude)
    ]


def _body_field(column: Column[Any], *, required: bool) -> tuple[Any, Any]:
    annotation: Any = _python_type(column)
    if column.nullable:
        annotation = annotation | None
    limits: dict[str, Any] = {}
    if isinstance(column.type, String) and column.type.length:
        limits["max_length"] = column.type.length
    if annotation is str or annotation == str | None:
        limits.setdefault("max_length", 100_000)
    if annotation is int or annotation == int | None:
        limits.update(ge=-(2**31), le=2**31 - 1)
    return annotation, Field(... if required else None, **limits)


def _body_name(model: type[Any], kind: str, exclude: tuple[str, ...]) -> str:
    """A unique OpenAPI name: `FacilityInputCreate`, `FacilityInputFixedTypeCreate`."""
    fixed = "".join(name.title().replace("_", "") for name in exclude)
    return f"Facility{model.__name__}{'Fixed' + fixed if fixed else ''}{kind}"


@cache
def create_body(model: type[Any], exclude: tuple[str, ...] = ()) -> type[BaseModel]:
    """A create body: what identifies the object is required (the non-nullable columns
    without default), the rest optional; M:N relations as lists of ids."""
    fields: dict[str, Any] = {}
    for column in _writable(model, ("active", *exclude)):
        required = not column.nullable and column.default is None
        fields[column.key] = _body_field(column, required=required)
    for name in to_many(model):
        fields[name] = (list[int] | None, None)
    return create_model(  # type: ignore[call-overload, no-any-return]
        _body_name(model, "Create", exclude), __base__=Schema, **fields
    )


@cache
def update_body(model: type[Any], exclude: tuple[str, ...] = ()) -> type[BaseModel]:
    """An update body: every writable column and M:N list, each optional."""
    fields: dict[str, Any] = {
        column.key: _body_field(column, required=False) for column in _writable(model, exclude)
    }
    for name in to_many(model):
        fields[name] = (list[int] | None, None)
    return create_model(  # type: ignore[call-overload, no-any-return]
        _body_name(model, "Update", exclude), __base__=Schema, **fields
    )


# ------------------------------------------------------------------ action log
# What the action log's representations read (`api.rows`): a record's columns and the
# names of what it points at. The substock detail lists records read the same way.
INPUT_VIEW = View(
    Input,
    (
        "id", "type", "user_id", "user.username", "count_at_start", "position_at_start",
        "substock_id", "substock.name_gen", "stock_id", "stock.name", "fishline_id",
        "fishline.name", "request_id", "request.subject", "superior_id", "superior.id",
        "superior.type", "description", "created", "performed", "performed_order",
        "active", "item_id", "item_type", "changes",
    ),
)  # fmt: skip
INPUT_DETAIL_VIEW = INPUT_VIEW.extend(("projects",))


def input_label(pk: int | None, type_: str | None) -> str | None:
    """`Action #97904 [SPLIT]`: how one record names another (None: no record)."""
    if pk is None or type_ is None:
        return None
    return f"Action #{pk} [{type_.upper()}]"


def _input_item(v: dict[str, Any]) -> str | None:
    # Foreign keys: an id is set exactly when its object exists.
    if v["substock_id"] is not None:
        return v["substock.name_gen"]  # type: ignore[no-any-return]
    if v["stock_id"] is not None:
        return v["stock.name"]  # type: ignore[no-any-return]
    if v["fishline_id"] is not None:
        return v["fishline.name"]  # type: ignore[no-any-return]
    return None


def input_simple(v: dict[str, Any]) -> dict[str, Any]:
    """One action-log record as the reference's example 3 lists it (`INPUT_VIEW`)."""
    return {
        "id": v["id"],
        "type": v["type"],
        "type_name": input_type_name(v["type"]),
        "user_id": v["user_id"],
        "user": v["user.username"],
        "count_at_start": v["count_at_start"],
        "position_at_start": v["position_at_start"],
        "substock_id": v["substock_id"],
        "substock": v["substock.name_gen"],
        "stock_id": v["stock_id"],
        "stock": v["stock.name"],
        "fishline_id": v["fishline_id"],
        "fishline": v["fishline.name"],
        "request_id": v["request_id"],
        "request": v["request.subject"],
        "superior_id": v["superior_id"],
        "superior": input_label(v["superior.id"], v["superior.type"]),
        "description": v["description"],
        "created": v["created"],
        "performed": v["performed"],
        "performed_order": v["performed_order"],
        "active": v["active"],
        "item": _input_item(v),
        "item_id": v["item_id"],
        "item_type": v["item_type"],
        "changes": v["changes"],
    }


def input_detail(v: dict[str, Any]) -> dict[str, Any]:
    """A record with its projects (`INPUT_DETAIL_VIEW`)."""
    return {**input_simple(v), "projects": v["projects"]}


class _RowsSchema(Schema):
    """A representation computed in Python (`__rows__`): from an ORM object, its view's
    values are read and derived; the keys, in order, are the schema's fields."""

    __rows__: ClassVar[Rows]

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, value: Any) -> Any:
        if not isinstance(value, cls.__rows__.view.model):
            return value
        return cls.__rows__.from_objects([value])[0]


class InputRead(_RowsSchema):
    """An action-log record."""

    __rows__ = Rows(INPUT_VIEW, input_simple)

    id: int
    type: str
    type_name: str
    user_id: int | None
    user: str | None
    count_at_start: int | None
    position_at_start: str | None
    substock_id: int | None
    substock: str | None
    stock_id: int | None
    stock: str | None
    fishline_id: int | None
    fishline: str | None
    request_id: int | None
    request: str | None
    superior_id: int | None
    superior: str | None
    description: str | None
    created: dt.datetime
    performed: dt.date
    performed_order: float
    active: bool
    item: str | None
    item_id: int | None
    item_type: str | None
    changes: dict[str, Any]


class InputDetail(InputRead):
    """An action-log record with its projects."""

    __rows__ = Rows(INPUT_DETAIL_VIEW, input_detail)

    projects: list[Any] = []


# -------------------------------------------------------------------- substock
# The keys of the reference's example 2 (simple) and 3 (detail), in its order.
SUBSTOCK_SIMPLE_KEYS = (
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
)  # fmt: skip
SUBSTOCK_DETAIL_KEYS = (
    *SUBSTOCK_SIMPLE_KEYS,
    "genotypes_zygosities", "latest_crossings", "eggquantity_cssclass",
    "eggquality_cssclass", "egg_quantity_avg", "egg_quality_avg", "background_id",
    "background_name", "owners", "project", "projects", "experimental_project",
    "workgroups", "fishline_id", "fishline_name", "fishline_name_gen",
    "fishline_attachments", "responsible", "responsible_id", "rack_id", "rack_name",
    "room_id", "room_name", "stock_name", "species_settings", "diet_cssclass",
    "light_cssclass", "experiment_cssclass", "binary_experiment_cssclass",
    "printed_cssclass", "reused_cssclass", "reused_icon", "most_severe_action", "parents",
    "inputs",
)  # fmt: skip

# What the substock representations read (`api.rows`); the fishline is the stock's.
SUBSTOCK_VIEW = View(
    Substock,
    (
        "id", "count", "substock_num", "name_gen", "facility_name_gen", "list_name_gen",
        "suffix", "date_of_death", "status", "sex_id", "sex.name", "productivity",
        "dominant_tag_id", "dominant_tag", "position_id", "position.name",
        "position.width", "position.rack_id", "light_id", "light.name", "diet_id",
        "diet.name", "stock_id", "parent_input_id", "crossing_parent_input_id",
        "substockuse_id", "substockuse.name", "description", "active", "project_id",
        "project.name", "project.name_gen", "current_author_id", "updated", "burdened",
        "to_print", "last_print", "experiment_id", "experiment.name",
        "experiment.name_gen", "most_severe_action_id", "actually_counted_to_experiment",
        "reused", "funding_id", "age", "age_weeks", "local_stock_id", "position_fullname",
        "date_of_birth", "stock.generation", "printed", "tags", "max_severity_id",
        "stock.description", "stock.fishline.description", "stock.fishline.species_id",
        "stock.fishline.species.name", "stock.fishline.species.settings",
    ),
)  # fmt: skip
GENOTYPE_ZYGOSITY_VIEW = View(
    SubstockGenotype,
    ("id", "genotype_id", "genotype.name_gen", "substock_id", "zygosity_id", "zygosity.name",
     "visible"),
)  # fmt: skip
SUBSTOCK_DETAIL_VIEW = SUBSTOCK_VIEW.extend(
    (
        "genotypes_zygosities", "inputs", "stock.inputs", "stock.fishline.inputs",
        "stock.fishline.background_id", "stock.fishline.background.name",
        "stock.fishline.owners", "project", "experiment.project", "stock.fishline.workgroups",
        "stock.fishline.id", "stock.fishline.name", "stock.fishline.name_gen",
        "stock.fishline.attachments", "stock.fishline.responsible.username",
        "stock.fishline.responsible_id", "position.rack.id", "position.rack.name",
        "position.rack.room.id", "position.rack.room.name", "stock.name", "stock.parents",
    ),
    items={
        "genotypes_zygosities": GENOTYPE_ZYGOSITY_VIEW,
        "inputs": INPUT_VIEW,
        "stock.inputs": INPUT_VIEW,
        "stock.fishline.inputs": INPUT_VIEW,
        "stock.parents": View(Substock, ("id",)),
    },
)  # fmt: skip

DEFAULT_CSS = "zb-status-default"


def _species_settings(v: dict[str, Any]) -> dict[str, Any]:
    if v["stock.fishline.species_id"] is None:  # a foreign key: no species
        return {}
    return v["stock.fishline.species.settings"]  # type: ignore[no-any-return]


def substock_simple(v: dict[str, Any]) -> dict[str, Any]:
    """The simple substock (`SUBSTOCK_VIEW`): its columns, the names of its relations,
    the derived fields."""
    tag, tags = v["dominant_tag"], v["tags"]
    descriptions = [
        f"{label}: {text}"
        for label, text in (
            ("fishline", v["stock.fishline.description"]),
            ("stock", v["stock.description"]),
            ("substock", v["description"]),
        )
        if text
    ]
    stage = maturity(v["age"], _species_settings(v))
    position_id = v["position_id"]
    return {
        "id": v["id"],
        "count": v["count"],
        "substock_num": v["substock_num"],
        "name_gen": v["name_gen"],
        "facility_name_gen": v["facility_name_gen"],
        "list_name_gen": v["list_name_gen"],
        "suffix": v["suffix"],
        "date_of_death": v["date_of_death"],
        "status": v["status"],
        "sex_id": v["sex_id"],
        "sex_name": v["sex.name"],
        "productivity": v["productivity"],
        "dominant_tag_id": v["dominant_tag_id"],
        "dominant_tag_name": tag["name"] if tag else None,
        "position_id": position_id,
        "position_name": v["position.name"],
        "light_id": v["light_id"],
        "light_name": v["light.name"],
        "diet_id": v["diet_id"],
        "diet_name": v["diet.name"],
        "stock_id": v["stock_id"],
        "parent_input_id": v["parent_input_id"],
        "crossing_parent_input_id": v["crossing_parent_input_id"],
        "substockuse_id": v["substockuse_id"],
        "substockuse_name": v["substockuse.name"],
        "description": v["description"],
        "active": v["active"],
        "project_id": v["project_id"],
        "project_name": v["project.name"],
        "project_name_gen": v["project.name_gen"],
        "current_author_id": v["current_author_id"],
        "updated": v["updated"],
        "burdened": v["burdened"],
        "to_print": v["to_print"],
        "last_print": v["last_print"],
        "experiment_id": v["experiment_id"],
        "experiment_name": v["experiment.name"],
        "experiment_name_gen": v["experiment.name_gen"],
        "most_severe_action_id": v["most_severe_action_id"],
        "actually_counted_to_experiment": v["actually_counted_to_experiment"],
        "reused": v["reused"],
        "funding_id": v["funding_id"],
        "funding_name": None,
        "maturity": stage,
        "age": v["age"],
        "age_weeks": v["age_weeks"],
        "local_stock_id": v["local_stock_id"],
        "status_cssclass": v["status"].replace(" ", "-"),
        "icon": "dead" if v["status"] == "dead" else stage,
        "position_fullname": v["position_fullname"],
        "position_width": v["position.width"],
        "facility_link": (
            f"/facility?rack_id={v['position.rack_id']}&highlight={position_id}"
            if position_id is not None  # a foreign key: the position exists
            else None
        ),
        "date_of_birth": v["date_of_birth"],
        "generation": v["stock.generation"],
        "printed": v["printed"],
        "tags": tags,
        "dominant_tag": tag,
        "dominant_tag_html": tag["html"] if tag else "",
        "tags_html": "".join(item["html"] for item in tags),
        "max_severity_id": v["max_severity_id"],
        "species_id": v["stock.fishline.species_id"],
        "species_name": v["stock.fishline.species.name"],
        "full_description": "; ".join(descriptions),
    }


def _css(flag: Any) -> str:
    return "zb-status-highlight" if flag else DEFAULT_CSS


def substock_detail(v: dict[str, Any]) -> dict[str, Any]:
    """The detail substock (`SUBSTOCK_DETAIL_VIEW`): the simple one, its fishline,
    place, genotypes and the action logs of the three."""
    own = v["inputs"]
    logged = {i["id"]: i for i in (*v["stock.fishline.inputs"], *v["stock.inputs"], *own)}
    project = v["project"]
    return {
        **substock_simple(v),
        "genotypes_zygosities": [
            {
                "id": gz["id"],
                "genotype_id": gz["genotype_id"],
                "genotype_name_gen": gz["genotype.name_gen"],
                "substock_id": gz["substock_id"],
                "zygosity_id": gz["zygosity_id"],
                "zygosity_name": gz["zygosity.name"],
                "visible": gz["visible"],
            }
            for gz in v["genotypes_zygosities"]
        ],
        "latest_crossings": [
            input_simple(i) for i in own if i["type"] == "crossing" and i["active"]
        ][-3:],
        "eggquantity_cssclass": "zb-status-eggquantity-none",
        "eggquality_cssclass": "zb-status-eggquality-none",
        "egg_quantity_avg": None,
        "egg_quality_avg": None,
        "background_id": v["stock.fishline.background_id"],
        "background_name": v["stock.fishline.background.name"],
        "owners": v["stock.fishline.owners"],
        "project": project,
        "projects": [project] if project else [],
        "experimental_project": v["experiment.project"],
        "workgroups": v["stock.fishline.workgroups"],
        "fishline_id": v["stock.fishline.id"],
        "fishline_name": v["stock.fishline.name"],
        "fishline_name_gen": v["stock.fishline.name_gen"],
        "fishline_attachments": v["stock.fishline.attachments"],
        "responsible": v["stock.fishline.responsible.username"],
        "responsible_id": v["stock.fishline.responsible_id"],
        "rack_id": v["position.rack.id"],
        "rack_name": v["position.rack.name"],
        "room_id": v["position.rack.room.id"],
        "room_name": v["position.rack.room.name"],
        "stock_name": v["stock.name"],
        "species_settings": _species_settings(v),
        "diet_cssclass": DEFAULT_CSS,
        "light_cssclass": DEFAULT_CSS,
        "experiment_cssclass": _css(v["experiment_id"]),
        "binary_experiment_cssclass": _css(v["actually_counted_to_experiment"]),
        "printed_cssclass": _css(not v["printed"]),
        "reused_cssclass": _css(v["reused"]),
        "reused_icon": "reused" if v["reused"] else "",
        "most_severe_action": None,
        "parents": [parent["id"] for parent in v["stock.parents"]],
        "inputs": [input_simple(i) for _, i in sorted(logged.items())],
    }


def _loose(keys: tuple[str, ...]) -> dict[str, Any]:
    return dict.fromkeys(keys, (Any, None))


class _SubstockRows(_RowsSchema):
    __rows__ = Rows(SUBSTOCK_VIEW, substock_simple)


class _SubstockDetailRows(_RowsSchema):
    __rows__ = Rows(SUBSTOCK_DETAIL_VIEW, substock_detail)


# The user-facing users of the fields are the reference's keys; their values are built
# above, so the schemas only fix the keys and their order.
SubstockRead = create_model(  # type: ignore[call-overload]
    "SubstockRead", __base__=_SubstockRows, **_loose(SUBSTOCK_SIMPLE_KEYS)
)
SubstockDetail = create_model(  # type: ignore[call-overload]
    "SubstockDetail", __base__=_SubstockDetailRows, **_loose(SUBSTOCK_DETAIL_KEYS)
)
