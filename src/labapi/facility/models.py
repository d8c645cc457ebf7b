"""The zebrafish facility's models: lookups, places, fishlines, stocks, substocks and the
action log (`Input`).

The facility has a declarative registry of its own on the shared metadata: its class names
are the reference's (`Experiment`, `Project`, `Tag`) and would clash with Isabl's in one
registry, where relationships are resolved by class name. Tables are prefixed `facility_`.

Every model has `active` (soft delete). Derived names (`name_gen`, `fullname`, …) are
`column_property` SQL expressions, so the one query compiler filters and orders by them.
"""

import datetime as dt
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    column_property,
    declared_attr,
    mapped_column,
    relationship,
)
from sqlalchemy.sql.functions import FunctionElement

from labapi.auth.models import User
from labapi.core.models import Base, utcnow

# Substock statuses when the facility configures none (`Config` name `substock.statuses`).
DEFAULT_STATUSES = ("productive", "unproductive", "dead", "merged", "split out", "given away")
# Maturity stages by age in days when the species' settings name none (`maturity`).
DEFAULT_MATURITY = {"embryo": 0, "larva": 3, "juvenile": 30, "adult": 90}


def maturity(age: int, settings: dict[str, Any]) -> str:
    """The last stage whose age in days (the species' `settings`, or the defaults) a
    substock of `age` days has reached."""
    stages = settings.get("maturity") or DEFAULT_MATURITY
    reached = [name for name, days in stages.items() if age >= days]
    return max(reached, key=lambda name: stages[name]) if reached else "embryo"


class FacilityBase(DeclarativeBase):
    """Base of the facility models: the shared metadata, a class registry of its own."""

    metadata = Base.metadata
    type_annotation_map = Base.type_annotation_map

    @property
    def pk(self) -> Any:
        """The primary key."""
        return getattr(self, "id", None)


class FacilityModel(FacilityBase):
    """An integer `id` and the soft-delete flag every facility object has."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-10)
    active: Mapped[bool] = mapped_column(default=True, sort_order=-9)


class Named(FacilityModel):
    """A lookup: identified by its unique name."""

    __abstract__ = True

    @declared_attr
    def name(cls) -> Mapped[str]:
        return mapped_column(String(100), unique=True)

    description: Mapped[str | None] = mapped_column(Text)


def _link(table: str, left: str, right: str, right_table: str | None = None) -> Table:
    """An M:N link table `facility_<table>` between `facility_<left>` and the right one."""
    right_table = right_table or f"facility_{right}"
    return Table(
        f"facility_{table}",
        Base.metadata,
        Column(
            f"{left}_id",
            ForeignKey(f"facility_{left}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column(
            f"{right}_id", ForeignKey(f"{right_table}.id", ondelete="CASCADE"), primary_key=True
        ),
    )


def _fk(target: str, *, nullable: bool = True) -> Any:
    return mapped_column(ForeignKey(f"{target}.id"), index=True, nullable=nullable)


def _one(target: Any, **kw: Any) -> Any:
    return relationship(target, lazy="raise", **kw)


def _many(target: Any, secondary: Table, **kw: Any) -> Any:
    return relationship(target, secondary=secondary, lazy="raise", **kw)


class days_since(FunctionElement[int]):  # noqa: N801 - an SQL function, named like one
    """Whole days from a date to today (UTC), as an integer, on both databases."""

    type = Integer()
    inherit_cache = True


@compiles(days_since)
def _days_since_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(julianday(date('now')) - julianday({arg}) AS INTEGER)"


@compiles(days_since, "postgresql")
def _days_since_pg(element: Any, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"(CURRENT_DATE - ({arg}))"


class joined_text(FunctionElement[str]):  # noqa: N801 - an SQL function, named like one
    """`joined_text(value, separator, order)`: an aggregate of text values in `order`.

    PostgreSQL orders inside `string_agg`; SQLite 3.40 cannot, and its `group_concat`
    follows the scan, which the (owner, order) unique index of each use makes ordered.
    """

    type = String()
    inherit_cache = True


@compiles(joined_text)
def _joined_text_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    value, separator, _ = (compiler.process(c, **kw) for c in element.clauses.clauses)
    return f"group_concat({value}, {separator})"


@compiles(joined_text, "postgresql")
def _joined_text_pg(element: Any, compiler: Any, **kw: Any) -> str:
    value, separator, order = (compiler.process(c, **kw) for c in element.clauses.clauses)
    return f"string_agg({value}, {separator} ORDER BY {order})"


def _text(expr: Any) -> Any:
    return cast(expr, String)


# ---------------------------------------------------------------------- lookups
class Species(Named):
    """A species kept in the facility; `settings` holds its maturity ages."""

    __tablename__ = "facility_species"
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Sex(Named):
    """A sex, with the HTML tag the facility shows for it."""

    __tablename__ = "facility_sex"
    tag: Mapped[str | None] = mapped_column(String(255))


class Zygosity(Named):
    """A zygosity (`+`, `-`, `+/-`, …)."""

    __tablename__ = "facility_zygosity"


class Background(Named):
    """A fishline's genetic background (TU, AB, …)."""

    __tablename__ = "facility_background"


class Origin(Named):
    """Where a fishline came from."""

    __tablename__ = "facility_origin"


class Source(Named):
    """Who supplied a fishline."""

    __tablename__ = "facility_source"


class Diet(Named):
    """A diet."""

    __tablename__ = "facility_diet"


class Light(Named):
    """A light regime."""

    __tablename__ = "facility_light"


class Method(Named):
    """A count-type method."""

    __tablename__ = "facility_method"


class CountType(Named):
    """A count type, counted by a method."""

    __tablename__ = "facility_counttype"
    method_id: Mapped[int | None] = _fk("facility_method")
    method: Mapped[Method | None] = _one(Method)


class ModCategory(Named):
    """A genotype modification category (transgene, mutant, …)."""

    __tablename__ = "facility_modcategory"


class PositionBlockType(Named):
    """Why a position is blocked."""

    __tablename__ = "facility_positionblocktype"


class PrinterType(Named):
    """A kind of label printer."""

    __tablename__ = "facility_printertype"


class SubstockUse(Named):
    """What a substock is used for."""

    __tablename__ = "facility_substockuse"


class AttachmentType(Named):
    """A kind of attachment."""

    __tablename__ = "facility_attachmenttype"


class AffectedGene(Named):
    """A gene a genotype affects."""

    __tablename__ = "facility_affectedgene"


class Driver(Named):
    """A gene driver of genotypes."""

    __tablename__ = "facility_driver"


class TriggeredGene(Named):
    """A gene triggered in genotypes."""

    __tablename__ = "facility_triggeredgene"


class Tag(Named):
    """A substock tag, with its HTML."""

    __tablename__ = "facility_tag"
    html: Mapped[str] = mapped_column(String(255), default="")


class Workgroup(Named):
    """A workgroup: fishlines belong to workgroups."""

    __tablename__ = "facility_workgroup"


class Config(FacilityModel):
    """One facility configuration value (`substock.statuses`, `defaults.list.page_size`)."""

    __tablename__ = "facility_config"
    name: Mapped[str] = mapped_column(String(100), unique=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str | None] = mapped_column(Text)


class Event(Named):
    """An event users may be notified of."""

    __tablename__ = "facility_event"


class GlobalTarget(FacilityModel):
    """Who is notified of an event: a user, a workgroup or an address."""

    __tablename__ = "facility_globaltarget"
    event_id: Mapped[int] = _fk("facility_event", nullable=False)
    user_id: Mapped[int | None] = _fk("auth_user")
    workgroup_id: Mapped[int | None] = _fk("facility_workgroup")
    email: Mapped[str | None] = mapped_column(String(254))
    event: Mapped[Event] = _one(Event)
    user: Mapped[User | None] = _one(User)
    workgroup: Mapped[Workgroup | None] = _one(Workgroup)


# ---------------------------------------------------------------------- places
class WaterSystem(Named):
    """A water system feeding racks."""

    __tablename__ = "facility_watersystem"


class WaterLog(FacilityModel):
    """One measurement of a water system."""

    __tablename__ = "facility_waterlog"
    watersystem_id: Mapped[int] = _fk("facility_watersystem", nullable=False)
    user_id: Mapped[int | None] = _fk("auth_user")
    measured: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ph: Mapped[float | None]
    conductivity: Mapped[float | None]
    temperature: Mapped[float | None]
    description: Mapped[str | None] = mapped_column(Text)
    watersystem: Mapped[WaterSystem] = _one(WaterSystem)
    user: Mapped[User | None] = _one(User)


class Room(Named):
    """A fish room."""

    __tablename__ = "facility_room"


class Rack(FacilityModel):
    """A rack in a room; its positions hold tanks."""

    __tablename__ = "facility_rack"
    __table_args__ = (UniqueConstraint("room_id", "name"),)
    name: Mapped[str] = mapped_column(String(100))
    room_id: Mapped[int] = _fk("facility_room", nullable=False)
    watersystem_id: Mapped[int | None] = _fk("facility_watersystem")
    rows: Mapped[int] = mapped_column(default=5)
    columns: Mapped[int] = mapped_column(default=10)
    description: Mapped[str | None] = mapped_column(Text)
    room: Mapped[Room] = _one(Room)
    watersystem: Mapped[WaterSystem | None] = _one(WaterSystem)


position_blocktype = _link("position_blocktype", "position", "positionblocktype")


class Position(FacilityModel):
    """A place for one tank (or `width` places) on a rack."""

    __tablename__ = "facility_position"
    __table_args__ = (UniqueConstraint("rack_id", "name"),)
    name: Mapped[str] = mapped_column(String(20))
    rack_id: Mapped[int] = _fk("facility_rack", nullable=False)
    width: Mapped[int] = mapped_column(default=1)
    rack: Mapped[Rack] = _one(Rack)
    blocked: Mapped[list[PositionBlockType]] = _many(PositionBlockType, position_blocktype)


# `F09:E01`: room and rack names, then the position's.
Position.fullname = column_property(
    select(_text(Room.name) + Rack.name + ":" + Position.__table__.c.name)
    .where(Rack.id == Position.__table__.c.rack_id, Room.id == Rack.room_id)
    .correlate_except(Rack, Room)
    .scalar_subquery()
)


# ------------------------------------------------------------------- fishlines
genotype_affectedgene = _link("genotype_affectedgene", "genotype", "affectedgene")
genotype_driver = _link("genotype_driver", "genotype", "driver")
genotype_triggeredgene = _link("genotype_triggeredgene", "genotype", "triggeredgene")


class Genotype(Named):
    """A genetic modification; `name_gen` is the promoter and the name (`-3.5ubi:GFP`)."""

    __tablename__ = "facility_genotype"
    promoter: Mapped[str | None] = mapped_column(String(50))
    modcategory_id: Mapped[int | None] = _fk("facility_modcategory")
    modcategory: Mapped[ModCategory | None] = _one(ModCategory)
    affected_genes: Mapped[list[AffectedGene]] = _many(AffectedGene, genotype_affectedgene)
    drivers: Mapped[list[Driver]] = _many(Driver, genotype_driver)
    triggered_genes: Mapped[list[TriggeredGene]] = _many(TriggeredGene, genotype_triggeredgene)


Genotype.name_gen = column_property(
    func.coalesce(Genotype.__table__.c.promoter, "") + Genotype.__table__.c.name
)


class Attachment(FacilityModel):
    """A file attached to fishlines."""

    __tablename__ = "facility_attachment"
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(1000), default="")
    attachmenttype_id: Mapped[int | None] = _fk("facility_attachmenttype")
    description: Mapped[str | None] = mapped_column(Text)
    attachmenttype: Mapped[AttachmentType | None] = _one(AttachmentType)


fishline_genotype = _link("fishline_genotype", "fishline", "genotype")
fishline_owner = _link("fishline_owner", "fishline", "user", "auth_user")
fishline_workgroup = _link("fishline_workgroup", "fishline", "workgroup")
fishline_attachment = _link("fishline_attachment", "fishline", "attachment")


class Fishline(Named):
    """A fish line: its genotypes, background, origin, owners and workgroups."""

    __tablename__ = "facility_fishline"
    background_id: Mapped[int | None] = _fk("facility_background")
    origin_id: Mapped[int | None] = _fk("facility_origin")
    source_id: Mapped[int | None] = _fk("facility_source")
    species_id: Mapped[int | None] = _fk("facility_species")
    responsible_id: Mapped[int | None] = _fk("auth_user")
    background: Mapped[Background | None] = _one(Background)
    origin: Mapped[Origin | None] = _one(Origin)
    source: Mapped[Source | None] = _one(Source)
    species: Mapped[Species | None] = _one(Species)
    responsible: Mapped[User | None] = _one(User)
    genotypes: Mapped[list[Genotype]] = _many(Genotype, fishline_genotype, order_by=Genotype.id)
    owners: Mapped[list[User]] = _many(User, fishline_owner, order_by=User.id)
    workgroups: Mapped[list[Workgroup]] = _many(
        Workgroup, fishline_workgroup, order_by=Workgroup.id
    )
    attachments: Mapped[list[Attachment]] = _many(
        Attachment, fishline_attachment, order_by=Attachment.id
    )


def _joined_genotypes(fishline_id: Any) -> Any:
    """The `name_gen`s of a fishline's genotypes, by id, joined with `; ` (NULL if none)."""
    return (
        select(joined_text(Genotype.name_gen, "; ", Genotype.id))
        .select_from(fishline_genotype)
        .join(Genotype, fishline_genotype.c.genotype_id == Genotype.id)
        .where(fishline_genotype.c.fishline_id == fishline_id)
        .scalar_subquery()
    )


Fishline.name_gen = column_property(
    func.coalesce(_joined_genotypes(Fishline.__table__.c.id), Fishline.__table__.c.name)
)


# ------------------------------------------------------------ projects, people
class Project(Named):
    """A project; `name_gen` adds its code (`P12: name`)."""

    __tablename__ = "facility_project"
    code: Mapped[str | None] = mapped_column(String(50))
    workgroup_id: Mapped[int | None] = _fk("facility_workgroup")
    workgroup: Mapped[Workgroup | None] = _one(Workgroup)


Project.name_gen = column_property(
    func.coalesce(Project.__table__.c.code + ": ", "") + Project.__table__.c.name
)


class Experiment(Named):
    """An experiment, within a project."""

    __tablename__ = "facility_experiment"
    code: Mapped[str | None] = mapped_column(String(50))
    project_id: Mapped[int | None] = _fk("facility_project")
    project: Mapped[Project | None] = _one(Project)


Experiment.name_gen = column_property(
    func.coalesce(Experiment.__table__.c.code + ": ", "") + Experiment.__table__.c.name
)


class Request(FacilityModel):
    """A request to the facility staff."""

    __tablename__ = "facility_request"
    user_id: Mapped[int | None] = _fk("auth_user")
    subject: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="new")
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user: Mapped[User | None] = _one(User)


class Message(FacilityModel):
    """A message to a user."""

    __tablename__ = "facility_message"
    sender_id: Mapped[int | None] = _fk("auth_user")
    recipient_id: Mapped[int] = _fk("auth_user", nullable=False)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read: Mapped[bool] = mapped_column(default=False)
    sender: Mapped[User | None] = _one(User, foreign_keys=[sender_id])
    recipient: Mapped[User] = _one(User, foreign_keys=[recipient_id])


# ---------------------------------------------------------------------- printing
class Printer(Named):
    """A label printer."""

    __tablename__ = "facility_printer"
    printertype_id: Mapped[int | None] = _fk("facility_printertype")
    address: Mapped[str] = mapped_column(String(255), default="")
    printertype: Mapped[PrinterType | None] = _one(PrinterType)


class PrintingTemplate(Named):
    """A label template for one printer type."""

    __tablename__ = "facility_printingtemplate"
    printertype_id: Mapped[int | None] = _fk("facility_printertype")
    template: Mapped[str] = mapped_column(Text, default="")
    printertype: Mapped[PrinterType | None] = _one(PrinterType)


# ------------------------------------------------------------ stocks, substocks
stock_parent = _link("stock_parent", "stock", "substock")


class Stock(FacilityModel):
    """Fish of one fishline born on one day; `stock_num` counts that day's stocks."""

    __tablename__ = "facility_stock"
    fishline_id: Mapped[int] = _fk("facility_fishline", nullable=False)
    date_of_birth: Mapped[dt.date] = mapped_column(Date, index=True)
    stock_num: Mapped[int] = mapped_column(default=1)
    local_stock_id: Mapped[str | None] = mapped_column(String(50), index=True)
    generation: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    responsible_id: Mapped[int | None] = _fk("auth_user")
    fishline: Mapped[Fishline] = _one(Fishline)
    responsible: Mapped[User | None] = _one(User)
    parents: Mapped[list["Substock"]] = _many("Substock", stock_parent, order_by="Substock.id")


def _stock_name(stock: Any) -> Any:
    """`ubi:GFP 2023-12-13/1`: fishline name, date of birth, stock number."""
    return (
        select(
            _text(Fishline.name)
            + " "
            + _text(stock.c.date_of_birth)
            + "/"
            + _text(stock.c.stock_num)
        )
        .where(Fishline.id == stock.c.fishline_id)
        .correlate_except(Fishline)
        .scalar_subquery()
    )


Stock.name = column_property(_stock_name(Stock.__table__))


substock_tag = _link("substock_tag", "substock", "tag")


class SubstockGenotype(FacilityModel):
    """The zygosity of one genotype in one substock."""

    __tablename__ = "facility_substockgenotype"
    __table_args__ = (UniqueConstraint("substock_id", "genotype_id"),)
    substock_id: Mapped[int] = _fk("facility_substock", nullable=False)
    genotype_id: Mapped[int] = _fk("facility_genotype", nullable=False)
    zygosity_id: Mapped[int] = _fk("facility_zygosity", nullable=False)
    visible: Mapped[bool] = mapped_column(default=True)
    genotype: Mapped[Genotype] = _one(Genotype)
    zygosity: Mapped[Zygosity] = _one(Zygosity)


class Substock(FacilityModel):
    """A tank of fish from one stock: count, sex, status, place, conditions."""

    __tablename__ = "facility_substock"
    __table_args__ = (UniqueConstraint("stock_id", "substock_num"),)
    stock_id: Mapped[int] = _fk("facility_stock", nullable=False)
    substock_num: Mapped[int] = mapped_column(default=1)
    count: Mapped[int] = mapped_column(default=0)
    sex_id: Mapped[int | None] = _fk("facility_sex")
    status: Mapped[str] = mapped_column(String(30), default="unproductive", index=True)
    productivity: Mapped[str | None] = mapped_column(String(30))
    suffix: Mapped[str] = mapped_column(String(50), default="")
    date_of_death: Mapped[dt.date | None] = mapped_column(Date)
    position_id: Mapped[int | None] = _fk("facility_position")
    light_id: Mapped[int | None] = _fk("facility_light")
    diet_id: Mapped[int | None] = _fk("facility_diet")
    substockuse_id: Mapped[int | None] = _fk("facility_substockuse")
    project_id: Mapped[int | None] = _fk("facility_project")
    experiment_id: Mapped[int | None] = _fk("facility_experiment")
    dominant_tag_id: Mapped[int | None] = _fk("facility_tag")
    current_author_id: Mapped[int | None] = _fk("auth_user")
    # Action-log ids without a foreign key: the action log points back at substocks,
    # and a cycle of foreign keys cannot be created table by table on SQLite.
    parent_input_id: Mapped[int | None]
    crossing_parent_input_id: Mapped[int | None]
    most_severe_action_id: Mapped[int | None]
    max_severity_id: Mapped[int | None]
    funding_id: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    updated: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    burdened: Mapped[bool] = mapped_column(default=False)
    to_print: Mapped[bool] = mapped_column(default=False)
    printed: Mapped[bool] = mapped_column(default=False)
    last_print: Mapped[dt.date | None] = mapped_column(Date)
    actually_counted_to_experiment: Mapped[bool] = mapped_column(default=False)
    reused: Mapped[bool] = mapped_column(default=False)

    stock: Mapped[Stock] = _one(Stock)
    sex: Mapped[Sex | None] = _one(Sex)
    position: Mapped[Position | None] = _one(Position)
    light: Mapped[Light | None] = _one(Light)
    diet: Mapped[Diet | None] = _one(Diet)
    substockuse: Mapped[SubstockUse | None] = _one(SubstockUse)
    project: Mapped[Project | None] = _one(Project)
    experiment: Mapped[Experiment | None] = _one(Experiment)
    dominant_tag: Mapped[Tag | None] = _one(Tag)
    current_author: Mapped[User | None] = _one(User)
    tags: Mapped[list[Tag]] = _many(Tag, substock_tag, order_by=Tag.id)
    genotypes_zygosities: Mapped[list[SubstockGenotype]] = relationship(
        SubstockGenotype, lazy="raise", order_by=SubstockGenotype.genotype_id
    )

    @property
    def fishline(self) -> Fishline:
        """The stock's fishline."""
        return self.stock.fishline


def _zygosities(substock: Any) -> Any:
    """`+/-` style: the visible zygosities of a substock's genotypes, by genotype id."""
    return (
        select(joined_text(Zygosity.name, "/", SubstockGenotype.genotype_id))
        .select_from(SubstockGenotype)
        .join(Zygosity, SubstockGenotype.zygosity_id == Zygosity.id)
        .where(SubstockGenotype.substock_id == substock.c.id, SubstockGenotype.visible)
        .scalar_subquery()
    )


def _facility_name_gen(substock: Any) -> Any:
    """`ubi:GFP<sup>+</sup>`: the fishline's name and the zygosities, superscript."""
    zygosities = _zygosities(substock)
    fishline_name = (
        select(Fishline.name)
        .join(Stock, Stock.fishline_id == Fishline.id)
        .where(Stock.id == substock.c.stock_id)
        .scalar_subquery()
    )
    # NULL (no zygosity) concatenated is NULL on both databases: then no superscript.
    return fishline_name + func.coalesce("<sup>" + zygosities + "</sup>", "")


_substock = Substock.__table__
Substock.facility_name_gen = column_property(_facility_name_gen(_substock))
Substock.list_name_gen = column_property(_facility_name_gen(_substock))
# `ubi:GFP<sup>+</sup> 2023-12-13/1  (12)` (two spaces, as the reference renders it).
Substock.name_gen = column_property(
    _facility_name_gen(_substock)
    + " "
    + select(_text(Stock.date_of_birth) + "/" + _text(Stock.stock_num))
    .where(Stock.id == _substock.c.stock_id)
    .scalar_subquery()
    + "  ("
    + _text(_substock.c.substock_num)
    + ")"
)
Substock.position_fullname = column_property(
    select(Position.fullname).where(Position.id == _substock.c.position_id).scalar_subquery()
)
Substock.local_stock_id = column_property(
    select(Stock.local_stock_id).where(Stock.id == _substock.c.stock_id).scalar_subquery()
)
Substock.date_of_birth = column_property(
    select(Stock.date_of_birth).where(Stock.id == _substock.c.stock_id).scalar_subquery()
)
_age = select(days_since(Stock.date_of_birth)).where(Stock.id == _substock.c.stock_id)
Substock.age = column_property(_age.scalar_subquery())
Substock.age_weeks = column_property(_age.scalar_subquery() // 7)


class PrintLog(FacilityModel):
    """One printed label."""

    __tablename__ = "facility_printlog"
    printer_id: Mapped[int | None] = _fk("facility_printer")
    printingtemplate_id: Mapped[int | None] = _fk("facility_printingtemplate")
    substock_id: Mapped[int | None] = _fk("facility_substock")
    user_id: Mapped[int | None] = _fk("auth_user")
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    copies: Mapped[int] = mapped_column(default=1)
    printer: Mapped[Printer | None] = _one(Printer)
    printingtemplate: Mapped[PrintingTemplate | None] = _one(PrintingTemplate)
    substock: Mapped[Substock | None] = _one(Substock)
    user: Mapped[User | None] = _one(User)


# ------------------------------------------------------------------ action log
INPUT_TYPES: dict[str, str] = {
    "condition": "Conditions",
    "count": "Count",
    "crossing": "Crossing",
    "genotype": "Genotyping",
    "productivity": "Productivity",
    "split": "Split",
    "transfer": "Transfer",
    "create": "Create",
    "update": "Update",
    "delete": "Delete",
    "confirm_burden": "Confirm Burden",
}

input_project = _link("input_project", "input", "project")


def input_type_name(type_: str) -> str:
    """An action-log type's human name (`split` → `Split`)."""
    return INPUT_TYPES.get(type_, type_.replace("_", " ").title())


class Input(FacilityModel):
    """One action-log record: who did what to which object, and what changed."""

    __tablename__ = "facility_input"
    type: Mapped[str] = mapped_column(String(30), index=True)
    user_id: Mapped[int | None] = _fk("auth_user")
    count_at_start: Mapped[int | None]
    position_at_start: Mapped[str | None] = mapped_column(String(100))
    substock_id: Mapped[int | None] = _fk("facility_substock")
    stock_id: Mapped[int | None] = _fk("facility_stock")
    fishline_id: Mapped[int | None] = _fk("facility_fishline")
    request_id: Mapped[int | None] = _fk("facility_request")
    superior_id: Mapped[int | None] = _fk("facility_input")
    description: Mapped[str | None] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    performed: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())
    performed_order: Mapped[float] = mapped_column(default=50.0)
    item_type: Mapped[str | None] = mapped_column(String(30))
    item_id: Mapped[int | None] = mapped_column(index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user: Mapped[User | None] = _one(User)
    substock: Mapped[Substock | None] = _one(Substock)
    stock: Mapped[Stock | None] = _one(Stock)
    fishline: Mapped[Fishline | None] = _one(Fishline)
    request: Mapped[Request | None] = _one(Request)
    superior: Mapped["Input | None"] = relationship(lazy="raise", remote_side="Input.id")
    projects: Mapped[list[Project]] = _many(Project, input_project, order_by=Project.id)


# The action log of each object, newest last (viewonly: the log is written as `Input`s).
for _owner, _column in (
    (Substock, Input.substock_id),
    (Stock, Input.stock_id),
    (Fishline, Input.fishline_id),
):
    _owner.inputs = relationship(
        Input, foreign_keys=[_column], viewonly=True, lazy="raise", order_by=Input.id
    )
