"""Services of the Isabl resources: what each model derives and which objects it nests."""

from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import User
from labapi.core.services import ModelService
from labapi.core.settings import get_settings
from labapi.isabl.models import (
    METHOD_CATEGORY,
    Aliquot,
    Assembly,
    Center,
    Disease,
    Experiment,
    Group,
    Individual,
    Platform,
    Project,
    Sample,
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


class IsablService(ModelService):
    """Every Isabl object nests its tags and its creator's username."""

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
        self, *, session: AsyncSession, obj: Any, data: dict[str, Any], actor: Any | None = None
    ) -> Any:
        """As any update; `aliquot_id` names an aliquot of the (new) sample."""
        data = dict(data)
        self._aliquot_from_identifier(data, data.get("sample") or {"pk": obj.sample_id})
        return await super().update(session=session, obj=obj, data=data, actor=actor)

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
