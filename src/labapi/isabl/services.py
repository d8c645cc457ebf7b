"""Services of the Isabl resources: what each model derives and which objects it nests."""

import datetime as dt
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import Float, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from labapi.auth.models import User
from labapi.core.errors import ErrorItem, ValidationFailed
from labapi.core.models import Base, UTCDateTime, utcnow
from labapi.core.services import ModelService
from labapi.core.settings import get_settings
from labapi.isabl.models import (
    METHOD_CATEGORY,
    Aliquot,
    Analysis,
    AnalysisRef,
    AnalysisStatus,
    AnalysisSummary,
    Application,
    Assembly,
    Center,
    Client,
    CustomField,
    Disease,
    Experiment,
    Group,
    Individual,
    IsablModel,
    Platform,
    Project,
    Sample,
    Signal,
    Species,
    Submission,
    Tag,
    Technique,
    slugify,
)


class TagService(ModelService):
    """Tags are got or created by name; the slug follows the name."""

    read_only = ("id", "slug")

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """The slug of the (new) name."""
        if "name" in values:
            values["slug"] = slugify(values["name"])
        return values


class UserRefService(ModelService):
    """Users named in bodies (`created_by`) must exist; they are never created here."""

    scalar_field = "username"
    lookup_only = True


tag_service = TagService(Tag)
user_ref_service = UserRefService(User)


# ------------------------------------------------------------- custom fields
CUSTOM_FIELD_APP = "isabl_api"
# What each configured type accepts (bool is an int in Python: refused for numbers).
_TYPE_CHECKS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


@cache
def custom_field_models() -> dict[str, str]:
    """Lower-cased class name to canonical label (`isabl_api.Individual`) of every model
    that has `custom_fields` (all Isabl objects but the definitions themselves)."""
    return {
        mapper.class_.__name__.lower(): f"{CUSTOM_FIELD_APP}.{mapper.class_.__name__}"
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, IsablModel) and mapper.class_ is not CustomField
    }


def canonical_model(name: str) -> str | None:
    """`isabl_api.Individual`, `Individual` or `individual` -> `isabl_api.Individual`."""
    return custom_field_models().get(name.rsplit(".", 1)[-1].lower())


def custom_value_problem(configuration: dict[str, Any], value: Any) -> str | None:
    """Why `value` does not fit a definition's configuration (None when it does; null
    always fits)."""
    if value is None:
        return None
    kind = configuration.get("type")
    check = _TYPE_CHECKS.get(str(kind))
    if check is not None and not check(value):
        return f"must be of type {kind}"
    choices = configuration.get("choices")
    if isinstance(choices, list) and value not in choices:
        return f"must be one of {choices}"
    return None


class IsablService(ModelService):
    """Every Isabl object nests its tags and its creator's username; its `custom_fields`
    are checked against the definitions of its model."""

    relations: ClassVar[dict[str, ModelService]] = {
        "tags": tag_service,
        "created_by": user_ref_service,
    }
    load = ("tags", "created_by")
    read_only = ("id", "uuid", "created", "modified", "created_by", "created_by_id", "slug")
    # The fields whose values make the slug, in order.
    slug_from: ClassVar[tuple[str, ...]] = ()

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """The slug, from the create-time key fields."""
        if self.slug_from and obj is None:
            values["slug"] = slugify(*(values.get(name) for name in self.slug_from))
        return values

    async def check(
        self,
        *,
        session: AsyncSession,
        values: dict[str, Any],
        obj: Any | None,
        loc: tuple[str | int, ...],
    ) -> None:
        """A 400 for every `custom_fields` value its definition refuses."""
        given = values.get("custom_fields")
        if not given or self.model is CustomField:
            return
        stmt = select(CustomField).where(
            CustomField.model == custom_field_models()[self.model.__name__.lower()],
            CustomField.field_name.in_(sorted(given)),
        )
        errors = []
        for definition in await session.scalars(stmt):
            name = definition.field_name
            problem = custom_value_problem(definition.configuration, given[name])
            if problem:
                errors.append(ErrorItem((*loc, "custom_fields", name), problem, "custom_field"))
        if errors:
            raise ValidationFailed("some custom fields do not fit their definitions", errors)


class NamedService(IsablService):
    """Centers and groups: name and acronym are create-only."""

    create_only = ("name", "acronym")
    slug_from = ("name", "acronym")


class DiseaseService(IsablService):
    """Diseases may be renamed; the slug follows."""

    slug_from = ("name", "acronym")

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """The slug of the (new) name and acronym."""
        if obj is not None and ("name" in values or "acronym" in values):
            name = values.get("name", obj.name)
            acronym = values.get("acronym", obj.acronym)
            values["slug"] = slugify(name, acronym)
            return values
        return super().derive(values, obj)


class PlatformService(IsablService):
    """Platforms: manufacturer, system and version are create-only."""

    create_only = ("manufacturer", "system", "version")
    slug_from = ("manufacturer", "system", "version")


class TechniqueService(IsablService):
    """Techniques: the category follows from the method."""

    create_only = ("method", "name")
    read_only = (*IsablService.read_only, "category")
    slug_from = ("name", "method")

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """Slug and category."""
        values = super().derive(values, obj)
        if "method" in values and values["method"] is not None:
            values["category"] = METHOD_CATEGORY[str(values["method"])]
        return values


class AssemblyService(IsablService):
    """Assemblies: name and species are create-only."""

    create_only = ("name", "species")


center_service = NamedService(Center)
group_service = NamedService(Group)
disease_service = DiseaseService(Disease)
platform_service = PlatformService(Platform)
technique_service = TechniqueService(Technique)
assembly_service = AssemblyService(Assembly)


# ------------------------------------------------------------ the hierarchy
SYSTEM_ID_READ_ONLY = (*IsablService.read_only, "system_id")


async def _next_number(session: AsyncSession, obj: Any, *conditions: Any) -> int:
    """The number of the new row among its siblings (the rows matching `conditions`):
    their count, or one more than the highest number in use if that is higher (a
    sibling was deleted), so that a generated id is never taken twice."""
    model = type(obj)
    siblings = select(model.system_id).where(*conditions, model.id != obj.id)
    used = [_number(system_id) for system_id in await session.scalars(siblings)]
    return next_number(used)


def _number(system_id: str | None) -> int:
    """The trailing number of a generated system id (`…_T01` → 1, `…_03` → 3)."""
    tail = (system_id or "").rsplit("_", 1)[-1]
    digits = "".join(ch for ch in tail if ch.isdigit())
    return int(digits) if digits else 0


class IndividualService(IsablService):
    """Individuals: `<PREFIX>_<H|M><pk:06d>`; species and identifier are create-only."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "center": center_service,
    }
    load = (*IsablService.load, "center")
    create_only = ("species", "identifier")
    read_only = SYSTEM_ID_READ_ONLY

    def prefix(self) -> str:
        """The system id prefix (setting `LABAPI_SYSTEM_ID_PREFIX`)."""
        return get_settings().system_id_prefix

    async def after_create(self, *, session: AsyncSession, obj: Any) -> None:
        """The system id, which needs the pk."""
        obj.system_id = individual_system_id(self.prefix(), obj.species, obj.id)
        await session.flush()


class SampleService(IsablService):
    """Samples: `<individual>_<T|N><n:02d>`, n numbering the individual's samples of the
    category; the category is create-only."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "individual": IndividualService(Individual),
        "disease": disease_service,
    }
    load = (*IsablService.load, "individual", "disease")
    create_only = ("category",)
    read_only = SYSTEM_ID_READ_ONLY

    async def after_create(self, *, session: AsyncSession, obj: Any) -> None:
        """The system id."""
        n = await _next_number(
            session,
            obj,
            Sample.individual_id == obj.individual_id,
            Sample.category == obj.category,
        )
        obj.system_id = sample_system_id(obj.individual.system_id, obj.category, n)
        await session.flush()


class AliquotService(IsablService):
    """Aliquots: `<sample>_<n:02d>`, n numbering the sample's aliquots."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "sample": SampleService(Sample),
    }
    load = (*IsablService.load, "sample")
    read_only = SYSTEM_ID_READ_ONLY

    async def after_create(self, *, session: AsyncSession, obj: Any) -> None:
        """The system id."""
        n = await _next_number(session, obj, Aliquot.sample_id == obj.sample_id)
        obj.system_id = aliquot_system_id(obj.sample.system_id, n)
        await session.flush()


class ProjectService(IsablService):
    """Projects have no key: always new unless `pk` is given."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "group": group_service,
    }
    load = (*IsablService.load, "group")


class ExperimentService(IsablService):
    """Experiments: `<sample>_<aliquot n:02d>_<method><n:02d>` (aliquot 00 without one), n
    numbering the experiments of that sample and aliquot with a technique of that method.

    The reference's `aliquot_id` is the aliquot's identifier: the aliquot of the
    experiment's sample with that identifier is got or created.
    """

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "sample": SampleService(Sample),
        "aliquot": AliquotService(Aliquot),
        "technique": technique_service,
        "platform": platform_service,
        "center": center_service,
        "projects": ProjectService(Project),
    }
    load = (
        *IsablService.load,
        "sample",
        "aliquot",
        "technique",
        "platform",
        "center",
        "projects",
    )
    read_only = SYSTEM_ID_READ_ONLY

    def _build_options(self, *, nested: bool) -> list[_AbstractLoad]:
        """The representation's loads, the read-only `results` included (nested too: an
        analysis' targets show their results)."""
        return [*super()._build_options(nested=nested), *result_options()]

    @staticmethod
    def _aliquot_from_identifier(values: dict[str, Any], sample: Any) -> None:
        if "aliquot_id" not in values:
            return
        identifier = values.pop("aliquot_id")
        if values.get("aliquot") is not None:
            return
        if identifier is None:
            values["aliquot"] = None
        elif sample is not None:
            values["aliquot"] = {"sample": sample, "identifier": identifier}

    def _coerce_input(self, data: Any) -> dict[str, Any]:
        values = super()._coerce_input(data)
        if values.get("pk") is not None:
            return values
        self._aliquot_from_identifier(values, values.get("sample"))
        # NULL members of the key match NULL: an absent aliquot or identifier is null.
        values.setdefault("aliquot", None)
        values.setdefault("identifier", None)
        return values

    async def update(
        self,
        *,
        session: AsyncSession,
        obj: Any,
        data: dict[str, Any],
        actor: Any | None = None,
        touch: bool = True,
    ) -> Any:
        """As any update; `aliquot_id` names an aliquot of the (new) sample."""
        data = dict(data)
        self._aliquot_from_identifier(data, data.get("sample") or {"pk": obj.sample_id})
        return await super().update(session=session, obj=obj, data=data, actor=actor, touch=touch)

    async def after_create(self, *, session: AsyncSession, obj: Any) -> None:
        """The system id."""
        aliquot_condition = (
            Experiment.aliquot_id.is_(None)
            if obj.aliquot_id is None
            else Experiment.aliquot_id == obj.aliquot_id
        )
        method = obj.technique.method
        same_method = select(Technique.id).where(Technique.method == method)
        n = await _next_number(
            session,
            obj,
            Experiment.sample_id == obj.sample_id,
            aliquot_condition,
            Experiment.technique_id.in_(same_method),
        )
        aliquot = obj.aliquot.system_id if obj.aliquot is not None else None
        obj.system_id = experiment_system_id(obj.sample.system_id, aliquot, method, n)
        await session.flush()


individual_service = IndividualService(Individual)
sample_service = SampleService(Sample)
aliquot_service = AliquotService(Aliquot)
project_service = ProjectService(Project)
experiment_service = ExperimentService(Experiment)


# ---------------------------------------------------------------- submissions
# The system id formats (SPEC §5), shared by the services above and the bulk importer.
def next_number(used: list[int]) -> int:
    """The number of a new sibling given the numbers in use: their count, or one more than
    the highest if that is higher (a sibling was deleted), plus one."""
    return max(len(used), *used) + 1 if used else 1


def individual_system_id(prefix: str, species: Any, pk: int) -> str:
    """`<PREFIX>_<H|M><pk:06d>`."""
    letter = "H" if species == Species.HUMAN else "M"
    return f"{prefix}_{letter}{pk:06d}"


def sample_system_id(individual: str, category: Any, n: int) -> str:
    """`<individual>_<T|N><n:02d>`."""
    return f"{individual}_{str(category)[0]}{n:02d}"


def aliquot_system_id(sample: str, n: int) -> str:
    """`<sample>_<n:02d>`."""
    return f"{sample}_{n:02d}"


def experiment_system_id(sample: str, aliquot: str | None, method: Any, n: int) -> str:
    """`<sample>_<aliquot n:02d>_<method><n:02d>`, aliquot 00 without one."""
    return f"{sample}_{_number(aliquot) if aliquot else 0:02d}_{method}{n:02d}"


class SubmissionService(IsablService):
    """Submissions: always new; `projects` name existing projects by pk."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "projects": project_service,
    }
    load = (*IsablService.load, "projects")
    read_only = (*IsablService.read_only, "submission_form", "submission_form_name", "processed")


submission_service = SubmissionService(Submission)


# ------------------------------------------------------------------ analyses
def result_options() -> list[_AbstractLoad]:
    """What an experiment's `results` show: the application (with its assembly), the
    experiments by pk and system id, linked analyses by pk."""
    return [
        selectinload(Experiment.results).options(
            selectinload(AnalysisSummary.application).options(*application_service.options()),
            selectinload(AnalysisSummary.target_refs),
            selectinload(AnalysisSummary.reference_refs),
            selectinload(AnalysisSummary.analyses),
        )
    ]


class ApplicationService(IsablService):
    """Applications: got or created by (name, version, assembly); name and version are
    create-only."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "assembly": assembly_service,
    }
    load = (*IsablService.load, "assembly")
    create_only = ("name", "version")

    def _coerce_input(self, data: Any) -> dict[str, Any]:
        values = super()._coerce_input(data)
        if values.get("pk") is None:
            values.setdefault("assembly", None)  # no assembly matches no assembly
        return values


def minutes(start: dt.datetime | None, end: dt.datetime) -> float | None:
    """Minutes from `start` to `end` (None without a start)."""
    return None if start is None else (end - start).total_seconds() / 60


def status_stamps(obj: Any | None, new: AnalysisStatus, now: dt.datetime) -> dict[str, Any]:
    """The life-cycle fields a change to `new` sets (SPEC §5): leaving STARTED finishes,
    STARTED starts, SUBMITTED starts over."""
    old = obj.status if obj is not None else None
    stamps: dict[str, Any] = {"previous_status": old}
    started = obj.started if obj is not None else None
    if old == AnalysisStatus.STARTED:
        stamps |= {"finished": now, "run_time": minutes(started, now)}
    if new == AnalysisStatus.STARTED:
        submitted = obj.submitted if obj is not None else None
        stamps |= {"started": now, "wait_time": minutes(submitted, now)}
    if new == AnalysisStatus.SUBMITTED:
        stamps |= dict.fromkeys(("started", "finished", "wait_time", "run_time"))
        stamps["submitted"] = now
    return stamps


class AnalysisRefService(ModelService):
    """Analyses linked from another analysis: named by pk only."""


class AnalysisService(IsablService):
    """Analyses: got or created by (level, application) when a project or individual level
    is set, else always new; a new status stamps the life-cycle."""

    relations: ClassVar[dict[str, ModelService]] = {
        **IsablService.relations,
        "application": ApplicationService(Application),
        "targets": experiment_service,
        "references": experiment_service,
        "analyses": AnalysisRefService(AnalysisRef),
        "project_level_analysis": project_service,
        "individual_level_analysis": individual_service,
    }
    load = (
        *IsablService.load,
        "application",
        "targets",
        "references",
        "analyses",
        "project_level_analysis",
        "individual_level_analysis",
    )
    LEVELS: ClassVar[tuple[str, ...]] = ("project_level_analysis", "individual_level_analysis")

    def key(self) -> tuple[str, ...]:
        """The members of either key, resolved before the match."""
        return ("application", *self.LEVELS)

    async def find(self, *, session: AsyncSession, values: dict[str, Any]) -> Any | None:
        """The analysis of the same application at the same level, if a level is set."""
        application = values.get("application")
        for level in self.LEVELS:
            target = values.get(level)
            if application is None or target is None:
                continue
            stmt = (
                select(Analysis)
                .where(
                    getattr(Analysis, f"{level}_id") == target.id,
                    Analysis.application_id == application.id,
                )
                .options(*self.options())
            )
            found = (await session.scalars(stmt)).first()
            if found is not None:
                return found
        return None

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """The life-cycle stamps of a status change."""
        status = values.get("status")
        if status is not None and (obj is None or AnalysisStatus(status) != obj.status):
            values |= status_stamps(obj, AnalysisStatus(status), utcnow())
        return values


class SignalService(IsablService):
    """Signals: the slug follows endpoint, id and import string; the target is
    create-only."""

    create_only = ("target_endpoint", "target_id")

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """The slug."""
        if obj is None or "import_string" in values:
            endpoint = values.get("target_endpoint", obj.target_endpoint if obj else None)
            target = values.get("target_id", obj.target_id if obj else None)
            importing = str(values.get("import_string") or "").replace(".", " ")
            values["slug"] = slugify(endpoint, target, importing)
        return values


class ClientService(IsablService):
    """Clients: the slug is create-only."""

    create_only = ("slug",)
    read_only = tuple(name for name in IsablService.read_only if name != "slug")


class CustomFieldService(IsablService):
    """Custom field definitions: `model` names a model with custom fields, stored as
    `isabl_api.<Model>`; model and field name are create-only."""

    create_only = ("model", "field_name")

    def derive(self, values: dict[str, Any], obj: Any | None) -> dict[str, Any]:
        """The canonical model label."""
        if isinstance(values.get("model"), str):
            values["model"] = canonical_model(values["model"]) or values["model"]
        return values

    async def check(
        self,
        *,
        session: AsyncSession,
        values: dict[str, Any],
        obj: Any | None,
        loc: tuple[str | int, ...],
    ) -> None:
        """The model must have custom fields."""
        model = values.get("model")
        if obj is None and canonical_model(str(model)) is None:
            valid = ", ".join(sorted(custom_field_models().values()))
            msg = f"{model!r} has no custom fields; valid: {valid}"
            raise ValidationFailed(msg, [ErrorItem((*loc, "model"), msg, "unknown_model")])


application_service = ApplicationService(Application)
analysis_service = AnalysisService(Analysis)
signal_service = SignalService(Signal)
client_service = ClientService(Client)
custom_field_service = CustomFieldService(CustomField)


class IndividualTreeService(IndividualService):
    """Individuals with their samples, each with its experiments (`individuals/tree`)."""

    def options(self, *, detail: bool = False) -> list[_AbstractLoad]:
        """The tree's loads."""
        experiments = selectinload(Sample.experiments).options(*experiment_service.options())
        samples = selectinload(Individual.samples).options(*sample_service.options(), experiments)
        return [*super().options(detail=detail), samples]

    async def get(self, *, session: AsyncSession, ident: str) -> Any:
        """The individual (found as any detail is), then its tree.

        The tree is read without `populate_existing`: its samples load their individual
        again (this one) along a path that does not load `samples`, which would reset them.
        """
        found = await individual_service.get(session=session, ident=ident)
        stmt = select(Individual).where(Individual.id == found.id).options(*self.options())
        return (await session.scalars(stmt)).one()


individual_tree_service = IndividualTreeService(Individual)


# ---------------------------------------------------------------- bulk update
class MinutesSince(FunctionElement[float]):
    """Minutes from a datetime column to a moment, in SQL."""

    name = "minutes_since"
    inherit_cache = True
    type = Float()


@compiles(MinutesSince, "postgresql")
def _minutes_pg(element: MinutesSince, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(EXTRACT(EPOCH FROM (CAST({end} AS TIMESTAMP WITH TIME ZONE) - {start})) / 60)"


@compiles(MinutesSince, "sqlite")
def _minutes_sqlite(element: MinutesSince, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 1440.0)"


async def bulk_update_status(
    *, session: AsyncSession, ids: list[int], status: AnalysisStatus, ran_by: str
) -> int:
    """Set `status` and `ran_by` of the analyses `ids` in one UPDATE, with the same
    life-cycle stamps as a PATCH; returns how many analyses changed."""
    now = utcnow()
    # No CAST: SQLite would read `CAST(text AS DATETIME)` as a number.
    moment = literal(now, UTCDateTime())
    leaving_started = Analysis.status == AnalysisStatus.STARTED
    values: dict[str, Any] = {
        "status": status,
        "ran_by": ran_by,
        "modified": now,
        "previous_status": case(
            (Analysis.status != status, Analysis.status), else_=Analysis.previous_status
        ),
    }
    if status == AnalysisStatus.SUBMITTED:  # a new submission starts the clock over
        values |= dict.fromkeys(("started", "finished", "wait_time", "run_time"))
        values["submitted"] = now
    else:
        values["finished"] = case((leaving_started, moment), else_=Analysis.finished)
        values["run_time"] = case(
            (leaving_started, MinutesSince(Analysis.started, moment)), else_=Analysis.run_time
        )
    stmt = (
        update(Analysis)
        .where(Analysis.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    # Objects this session already holds are stale now: read them afresh next time.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Analysis) and obj.id in ids:
            session.expire(obj)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
