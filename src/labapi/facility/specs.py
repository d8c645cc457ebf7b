"""The facility resources (SPEC §6), each declared once; `api.factory` generates their
routes under `/api/<class>/`. Most schemas are built from the models
(`facility.schemas`); the substock and the action log have the reference's own."""

from typing import Any

from labapi.api.factory import FACILITY, FACILITY_ACTIONS, READ_ONLY_ACTIONS, ResourceSpec
from labapi.auth.models import Group, Permission, User
from labapi.facility import models as m
from labapi.facility import schemas as s
from labapi.facility import services

SEARCH_FIELDS = ("name", "name_gen", "username", "subject", "codename")


def resource(
    name: str,
    model: type[Any],
    *,
    service: services.FacilityService | None = None,
    read: type[Any] | None = None,
    detail: type[Any] | None = None,
    fixed: dict[str, Any] | None = None,
    actions: tuple[str, ...] = FACILITY_ACTIONS,
    aliases: dict[str, str] | None = None,
    title: str = "",
) -> ResourceSpec:
    """A facility resource: schemas from the model unless given, `name`-like search."""
    exclude = tuple(fixed or ())
    return ResourceSpec(
        name=name,
        model=model,
        read=read or s.simple_read(model),
        detail=detail or s.detail_read(model),
        create=s.create_body(model, exclude),
        update=s.update_body(model, exclude),
        service=service or services.FacilityService(model),
        surface=FACILITY,
        title=title or name,
        aliases=aliases or {},
        search=tuple(f for f in SEARCH_FIELDS if hasattr(model, f)),
        default_ordering=("pk",),
        actions=actions,
        fixed=fixed or {},
    )


INPUT_SERVICE = services.InputService(m.Input)


def action_log(name: str, type_: str) -> ResourceSpec:
    """`input_<type>`: the action log filtered to one type (and created with it)."""
    return resource(
        name,
        m.Input,
        service=INPUT_SERVICE,
        read=s.InputRead,
        detail=s.InputDetail,
        fixed={"type": type_},
        title=f"{m.INPUT_TYPES[type_].lower()} record",
    )


AFFECTEDGENE = resource("affectedgene", m.AffectedGene)
ATTACHMENT = resource("attachment", m.Attachment)
ATTACHMENTTYPE = resource("attachmenttype", m.AttachmentType)
BACKGROUND = resource("background", m.Background)
CONFIG = resource("config", m.Config)
COUNTTYPE = resource("counttype", m.CountType)
DIET = resource("diet", m.Diet)
DRIVER = resource("driver", m.Driver)
EVENT = resource("event", m.Event)
EXPERIMENT = resource("experiment", m.Experiment)
FISHLINE = resource("fishline", m.Fishline, service=services.FishlineService(m.Fishline))
GENOTYPE = resource("genotype", m.Genotype)
GLOBALTARGET = resource("globaltarget", m.GlobalTarget)
GROUP = resource("group", Group, actions=READ_ONLY_ACTIONS, title="permission group")
INPUT = resource("input", m.Input, service=INPUT_SERVICE, read=s.InputRead, detail=s.InputDetail)
INPUT_CONDITION = action_log("input_condition", "condition")
INPUT_COUNT = action_log("input_count", "count")
INPUT_CROSSING = action_log("input_crossing", "crossing")
INPUT_GENOTYPING = action_log("input_genotyping", "genotype")
INPUT_PRODUCTIVITY = action_log("input_productivity", "productivity")
INPUT_SPLIT = action_log("input_split", "split")
INPUT_TRANSFER = action_log("input_transfer", "transfer")
LIGHT = resource("light", m.Light)
MESSAGE = resource("message", m.Message)
METHOD = resource("method", m.Method)
MODCATEGORY = resource("modcategory", m.ModCategory)
ORIGIN = resource("origin", m.Origin)
PERMISSION = resource("permission", Permission, actions=READ_ONLY_ACTIONS)
POSITION = resource("position", m.Position)
POSITIONBLOCKTYPE = resource("positionblocktype", m.PositionBlockType)
PRINTER = resource("printer", m.Printer)
PRINTERTYPE = resource("printertype", m.PrinterType)
PRINTINGTEMPLATE = resource("printingtemplate", m.PrintingTemplate)
PRINTLOG = resource("printlog", m.PrintLog)
PROJECT = resource("project", m.Project)
RACK = resource("rack", m.Rack)
REQUEST = resource("request", m.Request)
ROOM = resource("room", m.Room)
SEX = resource("sex", m.Sex)
SOURCE = resource("source", m.Source)
SPECIES = resource("species", m.Species)
STOCK = resource("stock", m.Stock, service=services.StockService(m.Stock))
SUBSTOCK = resource(
    "substock",
    m.Substock,
    service=services.SubstockService(m.Substock),
    read=s.SubstockRead,
    detail=s.SubstockDetail,
    aliases={"tags": "tags__name"},
)
SUBSTOCKUSE = resource("substockuse", m.SubstockUse)
TAG = resource("tag", m.Tag)
TRIGGEREDGENE = resource("triggeredgene", m.TriggeredGene)
USER = resource("user", User, actions=READ_ONLY_ACTIONS)
WATERLOG = resource("waterlog", m.WaterLog)
WATERSYSTEM = resource("watersystem", m.WaterSystem)
WORKGROUP = resource("workgroup", m.Workgroup)
ZYGOSITY = resource("zygosity", m.Zygosity)

REGISTRY: tuple[ResourceSpec, ...] = (
    AFFECTEDGENE,
    ATTACHMENT,
    ATTACHMENTTYPE,
    BACKGROUND,
    CONFIG,
    COUNTTYPE,
    DIET,
    DRIVER,
    EVENT,
    EXPERIMENT,
    FISHLINE,
    GENOTYPE,
    GLOBALTARGET,
    GROUP,
    INPUT,
    INPUT_CONDITION,
    INPUT_COUNT,
    INPUT_CROSSING,
    INPUT_GENOTYPING,
    INPUT_PRODUCTIVITY,
    INPUT_SPLIT,
    INPUT_TRANSFER,
    LIGHT,
    MESSAGE,
    METHOD,
    MODCATEGORY,
    ORIGIN,
    PERMISSION,
    POSITION,
    POSITIONBLOCKTYPE,
    PRINTER,
    PRINTERTYPE,
    PRINTINGTEMPLATE,
    PRINTLOG,
    PROJECT,
    RACK,
    REQUEST,
    ROOM,
    SEX,
    SOURCE,
    SPECIES,
    STOCK,
    SUBSTOCK,
    SUBSTOCKUSE,
    TAG,
    TRIGGEREDGENE,
    USER,
    WATERLOG,
    WATERSYSTEM,
    WORKGROUP,
    ZYGOSITY,
)
