"""Request and response bodies of the Isabl surface (SPEC §5 representations)."""

import datetime as dt
from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from labapi.isabl.models import Gender, Method, SampleCategory, Species

BIGINT = Field(default=None, ge=-(2**63), le=2**63 - 1)


class Schema(BaseModel):
    """Base of every Isabl body: reads ORM objects, ignores unknown keys."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=(), extra="ignore")


class UpdateSchema(Schema):
    """Base of update bodies: unknown keys are kept so create-only fields can be checked."""

    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------------ tags
class TagRef(Schema):
    """A tag as nested in other objects."""

    name: str
    pk: int


class TagIn(Schema):
    """A tag in a body: by `pk`, or by `name` (got or created); a bare string is a name.

    One model rather than a union of object and string, so that a bad tag is reported
    once, at `["body", "tags", i, "name"]`.
    """

    pk: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _named(self) -> "TagIn":
        if self.pk is None and self.name is None:
            raise ValueError("a tag needs its 'pk' or its 'name'")
        return self


TagsIn = list[TagIn] | None


class TagRead(Schema):
    """A tag."""

    pk: int
    name: str
    slug: str


class TagCreate(Schema):
    """Get or create a tag by name."""

    pk: int | None = None
    name: str = Field(min_length=1, max_length=100)


class TagUpdate(UpdateSchema):
    """Rename a tag."""

    name: str = Field(min_length=1, max_length=100)


# ------------------------------------------------------------------ base model
class IsablRead(Schema):
    """Fields every Isabl object carries."""

    pk: int
    uuid: UUID
    model_name: str
    created: dt.datetime
    modified: dt.datetime
    created_by: str | None = None
    tags: list[TagRef] = []
    notes: str | None = None
    custom_fields: dict[str, Any] = {}
    data: dict[str, Any] = {}
    storage_url: str | None = None
    storage_usage: int | None = None

    @field_validator("created_by", mode="before")
    @classmethod
    def _username(cls, value: Any) -> Any:
        return getattr(value, "username", value)

    @field_validator("custom_fields", "data", mode="before")
    @classmethod
    def _never_null(cls, value: Any) -> Any:
        return {} if value is None else value


class IsablWrite(UpdateSchema):
    """Writable fields every Isabl object has (the reference's update body)."""

    custom_fields: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    notes: str | None = None
    storage_url: str | None = Field(default=None, max_length=1000)
    storage_usage: int | None = BIGINT
    tags: TagsIn = None

    @field_validator("custom_fields", "data", "reference_data", mode="after", check_fields=False)
    @classmethod
    def _empty_object(cls, value: Any) -> Any:
        return {} if value is None else value


class IsablCreate(IsablWrite):
    """Fields every get-or-create body has."""

    model_config = ConfigDict(extra="ignore")

    pk: int | None = None
    created_by: str | None = Field(default=None, pattern=r"^[\w.@+-]*$")


# -------------------------------------------------------------------- centers
class CenterRead(IsablRead):
    """A center."""

    name: str
    acronym: str
    slug: str


class CenterCreate(IsablCreate):
    """Get or create a center by (name, acronym)."""

    name: str = Field(min_length=1, max_length=100, description="Center name without acronym.")
    acronym: str = Field(min_length=1, max_length=10, description="Abbreviation (e.g. NASA).")


class CenterUpdate(IsablWrite):
    """Update a center (name and acronym are create-only)."""


# ------------------------------------------------------------------- diseases
class DiseaseRead(IsablRead):
    """A disease."""

    name: str
    acronym: str
    slug: str


class DiseaseCreate(IsablCreate):
    """Get or create a disease by (name, acronym)."""

    name: str = Field(min_length=1, max_length=1000, description="Disease name without acronym.")
    acronym: str = Field(min_length=1, max_length=20, description="Abbreviation (e.g. MDS).")


class DiseaseUpdate(IsablWrite):
    """Update a disease, its name and acronym included."""

    name: str = Field(min_length=1, max_length=1000)
    acronym: str = Field(min_length=1, max_length=20)


# --------------------------------------------------------------------- groups
class GroupRead(IsablRead):
    """A research group."""

    name: str
    acronym: str
    slug: str


class GroupCreate(IsablCreate):
    """Get or create a group by (name, acronym)."""

    name: str = Field(min_length=1, max_length=100, description="Group name without acronym.")
    acronym: str = Field(min_length=1, max_length=20, description="Abbreviation (e.g. PEDS).")


class GroupUpdate(IsablWrite):
    """Update a group (name and acronym are create-only)."""


# ------------------------------------------------------------------ platforms
class PlatformRead(IsablRead):
    """A platform."""

    manufacturer: str
    system: str
    version: str
    slug: str


class PlatformCreate(IsablCreate):
    """Get or create a platform by (manufacturer, system, version)."""

    manufacturer: str = Field(min_length=1, max_length=100, description="e.g. ILLUMINA")
    system: str = Field(min_length=1, max_length=100, description="e.g. HISEQ")
    version: str = Field(min_length=1, max_length=100, description="e.g. 2500")


class PlatformUpdate(IsablWrite):
    """Update a platform (manufacturer, system and version are create-only)."""


# ----------------------------------------------------------------- techniques
class TechniqueRead(IsablRead):
    """A technique; `category` follows from `method`."""

    method: Method
    name: str
    slug: str
    category: str
    reference_data: dict[str, Any] = {}

    @field_validator("reference_data", mode="before")
    @classmethod
    def _never_null_reference(cls, value: Any) -> Any:
        return {} if value is None else value


class TechniqueCreate(IsablCreate):
    """Get or create a technique by (method, name)."""

    method: Method = Field(description="Experimental technique method.")
    name: str = Field(min_length=1, max_length=100)
    reference_data: dict[str, Any] | None = None


class TechniqueUpdate(IsablWrite):
    """Update a technique (method and name are create-only)."""

    reference_data: dict[str, Any] | None = None


# ----------------------------------------------------------------- assemblies
class AssemblyRead(IsablRead):
    """A genome assembly."""

    name: str
    species: Species
    reference_data: dict[str, Any] = {}

    @field_validator("reference_data", mode="before")
    @classmethod
    def _never_null_reference(cls, value: Any) -> Any:
        return {} if value is None else value


class AssemblyCreate(IsablCreate):
    """Get or create an assembly by name."""

    name: str = Field(min_length=1, max_length=100)
    species: Species = Field(description="Assembly species.")
    reference_data: dict[str, Any] | None = None


class AssemblyUpdate(IsablWrite):
    """Update an assembly (name and species are create-only)."""

    reference_data: dict[str, Any] | None = None


# ------------------------------------------------------------- nested objects
class ByPk(Schema):
    """A nested object in a body: `{"pk": n}` (or a bare pk) names an existing object and
    needs nothing else; any other body is validated in full and got or created."""

    @model_validator(mode="wrap")
    @classmethod
    def _by_pk(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = {"pk": value}
        if isinstance(value, dict) and value.get("pk") is not None:
            pk = value["pk"]
            if isinstance(pk, str) and pk.isascii() and pk.isdigit():
                pk = int(pk)
            if isinstance(pk, bool) or not isinstance(pk, int):
                raise ValueError("'pk' must be an integer")
            return cls.model_construct(pk=pk)
        return handler(value)


class CenterIn(ByPk, CenterCreate):
    """A center nested in a body."""


class DiseaseIn(ByPk, DiseaseCreate):
    """A disease nested in a body."""


class GroupIn(ByPk, GroupCreate):
    """A group nested in a body."""


class PlatformIn(ByPk, PlatformCreate):
    """A platform nested in a body."""


class TechniqueIn(ByPk, TechniqueCreate):
    """A technique nested in a body."""


def _never_null(value: Any) -> Any:
    return {} if value is None else value


IDENTIFIER = Field(min_length=1, max_length=100, description="Instance Identifier.")


# ---------------------------------------------------------------- individuals
class IndividualRead(IsablRead):
    """An individual, its center nested."""

    identifier: str
    system_id: str | None = None
    species: Species
    gender: Gender
    birth_year: int | None = None
    center: CenterRead


class IndividualWrite(IsablWrite):
    """Fields of an individual that may change."""

    birth_year: int | None = Field(
        default=None, ge=1800, le=2100, description="Date of birth is not stored (PHI)."
    )
    gender: Gender = Field(default=Gender.UNKNOWN, description="Individual gender.")


class IndividualCreate(IsablCreate, IndividualWrite):
    """Get or create an individual by (species, center, identifier)."""

    # The Write base keeps unknown keys (extra="allow") and, coming last among the
    # bases, would win: unknown keys (`created`, `system_id`, …) would reach the model.
    model_config = ConfigDict(extra="ignore")

    identifier: str = IDENTIFIER
    species: Species = Field(description="Individual species.")
    center: CenterIn


class IndividualUpdate(IndividualWrite):
    """Update an individual (species and identifier are create-only)."""

    center: CenterIn | None = None


class IndividualIn(ByPk, IndividualCreate):
    """An individual nested in a body."""


# -------------------------------------------------------------------- samples
class SampleRead(IsablRead):
    """A sample, its individual and disease nested."""

    identifier: str
    system_id: str | None = None
    category: SampleCategory
    collection_days: int | None = None
    individual: IndividualRead
    disease: DiseaseRead | None = None


class SampleWrite(IsablWrite):
    """Fields of a sample that may change."""

    collection_days: int | None = Field(
        default=None, ge=0, le=70000, description="Days since birth at collection time."
    )
    disease: DiseaseIn | None = None


class SampleCreate(IsablCreate, SampleWrite):
    """Get or create a sample by (individual, category, identifier)."""

    # The Write base keeps unknown keys (extra="allow") and, coming last among the
    # bases, would win: unknown keys (`created`, `system_id`, …) would reach the model.
    model_config = ConfigDict(extra="ignore")

    identifier: str = IDENTIFIER
    category: SampleCategory = Field(description="Sample category.")
    individual: IndividualIn


class SampleUpdate(SampleWrite):
    """Update a sample (the category is create-only)."""

    identifier: str | None = Field(default=None, min_length=1, max_length=100)
    individual: IndividualIn | None = None


class SampleIn(ByPk, SampleCreate):
    """A sample nested in a body."""


# ------------------------------------------------------------------- aliquots
class AliquotRead(IsablRead):
    """An aliquot, its sample nested."""

    identifier: str
    system_id: str | None = None
    sample: SampleRead


class AliquotCreate(IsablCreate):
    """Get or create an aliquot by (sample, identifier)."""

    identifier: str = IDENTIFIER
    sample: SampleIn


class AliquotUpdate(IsablWrite):
    """Update an aliquot."""

    identifier: str | None = Field(default=None, min_length=1, max_length=100)
    sample: SampleIn | None = None


class AliquotIn(ByPk, AliquotCreate):
    """An aliquot nested in a body."""


# ------------------------------------------------------------------- projects
EMAIL = Field(default=None, max_length=254)


class ProjectRead(IsablRead):
    """A project, its group nested."""

    title: str | None = None
    short_title: str | None = None
    description: str | None = None
    principal_investigator: str | None = None
    owner: str | None = None
    analyst: str | None = None
    coordinator: str | None = None
    sharing: dict[str, Any] = {}
    group: GroupRead | None = None

    _sharing = field_validator("sharing", mode="before")(_never_null)


class ProjectUpdate(IsablWrite):
    """Update a project: every field may change."""

    title: str | None = Field(default=None, min_length=1, max_length=100)
    short_title: str | None = Field(default=None, min_length=10, max_length=30, pattern=r"^[-\w]+$")
    description: str | None = Field(default=None, min_length=1, max_length=1000)
    principal_investigator: str | None = EMAIL
    owner: str | None = EMAIL
    analyst: str | None = EMAIL
    coordinator: str | None = Field(default=None, min_length=1, max_length=254)
    sharing: dict[str, Any] | None = None
    group: GroupIn | None = None

    _sharing = field_validator("sharing", mode="after")(_never_null)


class ProjectCreate(IsablCreate, ProjectUpdate):
    """Create a project (no unique key: always new unless `pk` is given)."""

    # The Write base keeps unknown keys (extra="allow") and, coming last among the
    # bases, would win: unknown keys (`created`, `system_id`, …) would reach the model.
    model_config = ConfigDict(extra="ignore")


class ProjectIn(ByPk, ProjectCreate):
    """A project nested in a body."""


# ---------------------------------------------------------------- experiments
class ExperimentRead(IsablRead):
    """An experiment with its sample, aliquot, technique, platform and projects nested."""

    identifier: str | None = None
    system_id: str | None = None
    sample: SampleRead
    aliquot: AliquotRead | None = None
    aliquot_id: str | None = Field(default=None, validation_alias="aliquot_identifier")
    technique: TechniqueRead
    platform: PlatformRead | None = None
    center: CenterRead | None = None
    projects: list[ProjectRead] = []
    raw_data: list[Any] | None = None
    bam_files: dict[str, Any] = {}

    _bam_files = field_validator("bam_files", mode="before")(_never_null)


class ExperimentWrite(IsablWrite):
    """Fields of an experiment that may change."""

    identifier: str | None = Field(default=None, max_length=100, description="Identifier.")
    aliquot: AliquotIn | None = None
    aliquot_id: str | None = Field(
        default=None, min_length=1, description="Identifier of the aliquot (of the sample)."
    )
    platform: PlatformIn | None = None
    center: CenterIn | None = None
    projects: list[ProjectIn] | None = None
    raw_data: list[Any] | None = None
    bam_files: dict[str, Any] | None = Field(
        default=None, description="Default bams are a function of Assembly."
    )

    _bam_files = field_validator("bam_files", mode="after")(_never_null)


class ExperimentCreate(IsablCreate, ExperimentWrite):
    """Get or create an experiment by (sample, aliquot, technique, identifier)."""

    # The Write base keeps unknown keys (extra="allow") and, coming last among the
    # bases, would win: unknown keys (`created`, `system_id`, …) would reach the model.
    model_config = ConfigDict(extra="ignore")

    sample: SampleIn
    technique: TechniqueIn


class ExperimentUpdate(ExperimentWrite):
    """Update an experiment."""

    sample: SampleIn | None = None
    technique: TechniqueIn | None = None
