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
from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, create_model, model_validator
from sqlalchemy import Column, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty

from labapi.facility.models import Input, Substock

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


def _columns(model: type[Any]) -> list[tuple[str, Any]]:
    """(name, SQL column or expression) of every public mapped column, declared order
    (secret columns, such as password hashes, are never rendered nor written)."""
    return [
        (prop.key, prop.columns[0])
        for prop in sa_inspect(model).column_attrs
        if not getattr(prop.columns[0], "info", {}).get("secret")
    ]


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
        name: (_python_type(column) | None, None) for name, column in _columns(model)
    }
    return create_model(f"Facility{model.__name__}Flat", __base__=Schema, **fields)  # type: ignore[call-overload, no-any-return]


def _simple_fields(model: type[Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        name: (_python_type(column) | None, None) for name, column in _columns(model)
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
        for _, column in _columns(model)
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
def input_label(obj: Input | None) -> str | None:
    """`Action #97904 [SPLIT]`: how one record names another."""
    if obj is None:
        return None
    return f"Action #{obj.id} [{obj.type.upper()}]"


def _input_item(obj: Input) -> str | None:
    if obj.substock is not None:
        return obj.substock.name_gen
    if obj.stock is not None:
        return obj.stock.name
    if obj.fishline is not None:
        return obj.fishline.name
    return None


def input_simple(obj: Input) -> dict[str, Any]:
    """One action-log record as the reference's example 3 lists it."""
    return {
        "id": obj.id,
        "type": obj.type,
        "type_name": obj.type_name,
        "user_id": obj.user_id,
        "user": obj.user.username if obj.user else None,
        "count_at_start": obj.count_at_start,
        "position_at_start": obj.position_at_start,
        "substock_id": obj.substock_id,
        "substock": obj.substock.name_gen if obj.substock else None,
        "stock_id": obj.stock_id,
        "stock": obj.stock.name if obj.stock else None,
        "fishline_id": obj.fishline_id,
        "fishline": obj.fishline.name if obj.fishline else None,
        "request_id": obj.request_id,
        "request": obj.request.subject if obj.request else None,
        "superior_id": obj.superior_id,
        "superior": input_label(obj.superior),
        "description": obj.description,
        "created": obj.created,
        "performed": obj.performed,
        "performed_order": obj.performed_order,
        "active": obj.active,
        "item": _input_item(obj),
        "item_id": obj.item_id,
        "item_type": obj.item_type,
        "changes": obj.changes,
    }


class InputRead(Schema):
    """An action-log record."""

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

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, value: Any) -> Any:
        return input_simple(value) if isinstance(value, Input) else value


class InputDetail(InputRead):
    """An action-log record with its projects."""

    projects: list[Any] = []

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, value: Any) -> Any:
        if not isinstance(value, Input):
            return value
        return {**input_simple(value), "projects": [_flat(p) for p in value.projects]}


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

DEFAULT_CSS = "zb-status-default"


def _name(obj: Any, attr: str = "name") -> Any:
    return getattr(obj, attr) if obj is not None else None


def _flat(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return flat_read(type(obj)).model_validate(obj).model_dump()


def substock_simple(obj: Substock) -> dict[str, Any]:
    """The simple substock: its columns, the names of its relations, the derived fields."""
    stock, position = obj.stock, obj.position
    fishline = stock.fishline
    species = fishline.species
    descriptions = [
        f"{label}: {text}"
        for label, text in (
            ("fishline", fishline.description),
            ("stock", stock.description),
            ("substock", obj.description),
        )
        if text
    ]
    maturity = obj.maturity
    return {
        "id": obj.id,
        "count": obj.count,
        "substock_num": obj.substock_num,
        "name_gen": obj.name_gen,
        "facility_name_gen": obj.facility_name_gen,
        "list_name_gen": obj.list_name_gen,
        "suffix": obj.suffix,
        "date_of_death": obj.date_of_death,
        "status": obj.status,
        "sex_id": obj.sex_id,
        "sex_name": _name(obj.sex),
        "productivity": obj.productivity,
        "dominant_tag_id": obj.dominant_tag_id,
        "dominant_tag_name": _name(obj.dominant_tag),
        "position_id": obj.position_id,
        "position_name": _name(position),
        "light_id": obj.light_id,
        "light_name": _name(obj.light),
        "diet_id": obj.diet_id,
        "diet_name": _name(obj.diet),
        "stock_id": obj.stock_id,
        "parent_input_id": obj.parent_input_id,
        "crossing_parent_input_id": obj.crossing_parent_input_id,
        "substockuse_id": obj.substockuse_id,
        "substockuse_name": _name(obj.substockuse),
        "description": obj.description,
        "active": obj.active,
        "project_id": obj.project_id,
        "project_name": _name(obj.project),
        "project_name_gen": _name(obj.project, "name_gen"),
        "current_author_id": obj.current_author_id,
        "updated": obj.updated,
        "burdened": obj.burdened,
        "to_print": obj.to_print,
        "last_print": obj.last_print,
        "experiment_id": obj.experiment_id,
        "experiment_name": _name(obj.experiment),
        "experiment_name_gen": _name(obj.experiment, "name_gen"),
        "most_severe_action_id": obj.most_severe_action_id,
        "actually_counted_to_experiment": obj.actually_counted_to_experiment,
        "reused": obj.reused,
        "funding_id": obj.funding_id,
        "funding_name": None,
        "maturity": maturity,
        "age": obj.age,
        "age_weeks": obj.age_weeks,
        "local_stock_id": obj.local_stock_id,
        "status_cssclass": obj.status.replace(" ", "-"),
        "icon": "dead" if obj.status == "dead" else maturity,
        "position_fullname": obj.position_fullname,
        "position_width": _name(position, "width"),
        "facility_link": (
            f"/facility?rack_id={position.rack_id}&highlight={position.id}" if position else None
        ),
        "date_of_birth": obj.date_of_birth,
        "generation": stock.generation,
        "printed": obj.printed,
        "tags": [_flat(tag) for tag in obj.tags],
        "dominant_tag": _flat(obj.dominant_tag),
        "dominant_tag_html": obj.dominant_tag.html if obj.dominant_tag else "",
        "tags_html": "".join(tag.html for tag in obj.tags),
        "max_severity_id": obj.max_severity_id,
        "species_id": fishline.species_id,
        "species_name": _name(species),
        "full_description": "; ".join(descriptions),
    }


def _css(flag: Any) -> str:
    return "zb-status-highlight" if flag else DEFAULT_CSS


def substock_detail(obj: Substock) -> dict[str, Any]:
    """The detail substock: the simple one, its fishline, place, genotypes and log."""
    stock, position = obj.stock, obj.position
    fishline = stock.fishline
    rack = position.rack if position else None
    room = rack.room if rack else None
    inputs = {i.id: i for i in (*fishline.inputs, *stock.inputs, *obj.inputs)}
    return {
        **substock_simple(obj),
        "genotypes_zygosities": [
            {
                "id": gz.id,
                "genotype_id": gz.genotype_id,
                "genotype_name_gen": gz.genotype.name_gen,
                "substock_id": gz.substock_id,
                "zygosity_id": gz.zygosity_id,
                "zygosity_name": gz.zygosity.name,
                "visible": gz.visible,
            }
            for gz in obj.genotypes_zygosities
        ],
        "latest_crossings": [
            input_simple(i) for i in obj.inputs if i.type == "crossing" and i.active
        ][-3:],
        "eggquantity_cssclass": "zb-status-eggquantity-none",
        "eggquality_cssclass": "zb-status-eggquality-none",
        "egg_quantity_avg": None,
        "egg_quality_avg": None,
        "background_id": fishline.background_id,
        "background_name": _name(fishline.background),
        "owners": [_flat(user) for user in fishline.owners],
        "project": _flat(obj.project),
        "projects": [_flat(obj.project)] if obj.project else [],
        "experimental_project": _flat(obj.experiment.project) if obj.experiment else None,
        "workgroups": [_flat(group) for group in fishline.workgroups],
        "fishline_id": fishline.id,
        "fishline_name": fishline.name,
        "fishline_name_gen": fishline.name_gen,
        "fishline_attachments": [_flat(a) for a in fishline.attachments],
        "responsible": _name(fishline.responsible, "username"),
        "responsible_id": fishline.responsible_id,
        "rack_id": _name(rack, "id"),
        "rack_name": _name(rack),
        "room_id": _name(room, "id"),
        "room_name": _name(room),
        "stock_name": stock.name,
        "species_settings": fishline.species.settings if fishline.species else {},
        "diet_cssclass": DEFAULT_CSS,
        "light_cssclass": DEFAULT_CSS,
        "experiment_cssclass": _css(obj.experiment_id),
        "binary_experiment_cssclass": _css(obj.actually_counted_to_experiment),
        "printed_cssclass": _css(not obj.printed),
        "reused_cssclass": _css(obj.reused),
        "reused_icon": "reused" if obj.reused else "",
        "most_severe_action": None,
        "parents": [parent.id for parent in stock.parents],
        "inputs": [input_simple(i) for _, i in sorted(inputs.items())],
    }


def _loose(keys: tuple[str, ...]) -> dict[str, Any]:
    return dict.fromkeys(keys, (Any, None))


class _SubstockBase(Schema):
    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, value: Any) -> Any:
        if not isinstance(value, Substock):
            return value
        return substock_detail(value) if "inputs" in cls.model_fields else substock_simple(value)


# The user-facing users of the fields are the reference's keys; their values are built
# above, so the schemas only fix the keys and their order.
SubstockRead = create_model(  # type: ignore[call-overload]
    "SubstockRead", __base__=_SubstockBase, **_loose(SUBSTOCK_SIMPLE_KEYS)
)
SubstockDetail = create_model(  # type: ignore[call-overload]
    "SubstockDetail", __base__=_SubstockBase, **_loose(SUBSTOCK_DETAIL_KEYS)
)
