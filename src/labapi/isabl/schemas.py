"""Request and response bodies of the Isabl surface (SPEC §5 representations)."""

import datetime as dt
import enum
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

from labapi.api.projection import projected
from labapi.isabl.models import (
    AnalysisStatus,
    Gender,
    Method,
    SampleCategory,
    SignalEndpoint,
    Species,
)

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
    @projected
    def _username(cls, value: Any) -> Any:
        return getattr(value, "username", value)

    @field_validator("custom_fields", "data", mode="before")
    @classmethod
    @projected
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
    @projected
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
    @projected
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


@projected
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
    submission: int | None = Field(default=None, validation_alias="submission_id")


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
class SampleFields(IsablRead):
    """A sample without its individual (as nested in an individual's tree)."""

    identifier: str
    system_id: str | None = None
    category: SampleCategory
    collection_days: int | None = None
    disease: DiseaseRead | None = None
    submission: int | None = Field(default=None, validation_alias="submission_id")


class SampleRead(SampleFields):
    """A sample, its individual and disease nested."""

    individual: IndividualRead


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


class SampleChange(SampleUpdate):
    """What a sample nested with its pk in an experiment's update may change: a sample's
    own update body (`category` is kept so that changing it is refused)."""

    model_config = ConfigDict(extra="ignore")

    category: SampleCategory | None = None


class SampleInPlace(SampleIn):
    """A sample nested in an experiment's update: with its pk and more fields it is
    updated in place (SPEC §5), with its pk alone linked, without pk got or created."""

    @model_validator(mode="wrap")
    @classmethod
    def _in_place(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if isinstance(value, dict) and value.get("pk") is not None and set(value) - {"pk"}:
            pk = handler({"pk": value["pk"]}).pk
            change = SampleChange.model_validate({k: v for k, v in value.items() if k != "pk"})
            # The values keep their types (the fields are the sample's own): dumped as usual.
            fields = {name: getattr(change, name) for name in change.model_fields_set}
            return cls.model_construct(pk=pk, **fields)
        return handler(value)


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
class ExperimentRef(Schema):
    """An experiment named by pk and system id (in an experiment's `results`)."""

    pk: int
    system_id: str | None = None


class ResultApplication(Schema):
    """The application of an experiment's result, its assembly by name."""

    pk: int
    name: str
    version: str
    assembly: str | None = None

    @field_validator("assembly", mode="before")
    @classmethod
    @projected
    def _assembly_name(cls, value: Any) -> Any:
        return getattr(value, "name", value)


# SPEC §5: `analyses` on GET shows at most 50 pks (the field's max_length says so to
# OpenAPI and to the projection).
PK_LIST_MAX = 50


@projected
def _pks(value: Any) -> Any:
    """Related objects as their pks, the first PK_LIST_MAX of them."""
    if isinstance(value, list):
        return [getattr(item, "id", item) for item in value[:PK_LIST_MAX]]
    return value


class ExperimentResult(Schema):
    """An analysis that targets an experiment and succeeded or is in progress."""

    pk: int
    status: AnalysisStatus
    results: dict[str, Any] = {}
    storage_url: str | None = None
    run_time: float | None = None
    wait_time: float | None = None
    application: ResultApplication
    targets: list[ExperimentRef] = Field(default=[], validation_alias="target_refs")
    references: list[ExperimentRef] = Field(default=[], validation_alias="reference_refs")
    analyses: list[int] = Field(default=[], max_length=PK_LIST_MAX)

    _results = field_validator("results", mode="before")(_never_null)
    _analyses = field_validator("analyses", mode="before")(_pks)


class ExperimentFields(IsablRead):
    """An experiment without its sample (as nested in a sample's tree)."""

    identifier: str | None = None
    system_id: str | None = None
    aliquot: AliquotRead | None = None
    aliquot_id: str | None = Field(default=None, validation_alias="aliquot_identifier")
    technique: TechniqueRead
    platform: PlatformRead | None = None
    center: CenterRead | None = None
    projects: list[ProjectRead] = []
    raw_data: list[Any] | None = None
    bam_files: dict[str, Any] = {}
    submission: int | None = Field(default=None, validation_alias="submission_id")
    results: list[ExperimentResult] = []

    _bam_files = field_validator("bam_files", mode="before")(_never_null)


class ExperimentRead(ExperimentFields):
    """An experiment with its sample, aliquot, technique, platform and projects nested."""

    sample: SampleRead


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
    """Update an experiment; a sample given with its pk and more is updated in place."""

    sample: SampleInPlace | None = None
    technique: TechniqueIn | None = None


# ---------------------------------------------------------------- submissions
class SubmissionRead(IsablRead):
    """A submission: its form, the projects its experiments join, its last report in `data`."""

    description: str | None = None
    submission_form: str | None = None
    submission_form_name: str | None = None
    processed: dt.datetime | None = None
    projects: list[ProjectRead] = []


class SubmissionUpdate(IsablWrite):
    """Update a submission (the form is replaced by a multipart upload)."""

    description: str | None = Field(
        default=None,
        min_length=1,
        max_length=140,
        description="A description of samples created for future reference.",
    )


class SubmissionCreate(IsablCreate, SubmissionUpdate):
    """Create a submission (no unique key: always new); the form may come with it."""

    projects: list[int] = Field(
        default=[], description="Created sequencing experiments will be added to projects."
    )


class SubmissionProcess(Schema):
    """Body of `submissions/process/<id>`."""

    commit: bool = Field(
        default=False, description="Whether to commit actions produced by submission_form."
    )


class ExperimentIn(ByPk, ExperimentCreate):
    """An experiment nested in a body (an analysis' targets and references)."""


class AssemblyIn(ByPk, AssemblyCreate):
    """An assembly nested in a body."""


# --------------------------------------------------------------------- trees
class SampleTree(SampleFields):
    """A sample of an individual's tree, with its experiments."""

    experiment_set: list[ExperimentFields] = Field(default=[], validation_alias="experiments")


class IndividualTree(IndividualRead):
    """An individual with its samples, each with its experiments."""

    sample_set: list[SampleTree] = Field(default=[], validation_alias="samples")


# --------------------------------------------------------------- applications
class ApplicationRead(IsablRead):
    """An application, its assembly nested."""

    name: str
    version: str
    assembly: AssemblyRead | None = None
    application_class: str | None = None
    description: str | None = None
    url: str | None = None
    results: dict[str, Any] = {}
    settings: dict[str, Any] = {}

    _objects = field_validator("results", "settings", mode="before")(_never_null)


class ApplicationWrite(IsablWrite):
    """Fields of an application that may change."""

    application_class: str | None = Field(
        default=None, min_length=1, max_length=100, description="Class used to execute it."
    )
    assembly: AssemblyIn | None = None
    description: str | None = None
    url: str | None = Field(default=None, min_length=1, max_length=300)
    results: dict[str, Any] | None = Field(default=None, description="Results specification.")
    settings: dict[str, Any] | None = Field(default=None, description="Configuration.")

    _objects = field_validator("results", "settings", mode="after")(_never_null)


class ApplicationCreate(IsablCreate, ApplicationWrite):
    """Get or create an application by (name, version, assembly); no assembly matches no
    assembly."""

    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=100)


class ApplicationUpdate(ApplicationWrite):
    """Update an application (name and version are create-only)."""


class ApplicationIn(ByPk, ApplicationCreate):
    """An application nested in a body."""


# ------------------------------------------------------------------- analyses
class PkIn(Schema):
    """An object named only by its pk (a bare integer or `{"pk": n}`)."""

    pk: int

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"pk": value}
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return {"pk": int(value)}
        return value


class AnalysisRead(IsablRead):
    """An analysis: application, experiments and levels nested, `analyses` as pks."""

    application: ApplicationRead
    status: AnalysisStatus
    previous_status: AnalysisStatus | None = None
    submitted: dt.datetime | None = None
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    wait_time: float | None = None
    run_time: float | None = None
    ran_by: str | None = None
    results: dict[str, Any] = {}
    targets: list[ExperimentRead] = []
    references: list[ExperimentRead] = []
    analyses: list[int] = Field(
        default=[], max_length=PK_LIST_MAX, description="Linked analyses, at most 50."
    )
    project_level_analysis: ProjectRead | None = None
    individual_level_analysis: IndividualRead | None = None

    _results = field_validator("results", mode="before")(_never_null)
    _analyses = field_validator("analyses", mode="before")(_pks)


RAN_BY = Field(default=None, pattern=r"^[\w.@+-]+$", max_length=150)


class AnalysisWrite(IsablWrite):
    """Fields of an analysis that may change; a new `status` stamps the life-cycle."""

    status: AnalysisStatus = Field(
        default=AnalysisStatus.CREATED, description="Analysis current status."
    )
    ran_by: str | None = RAN_BY
    results: dict[str, Any] | None = Field(
        default=None, description="Analysis results as reported by application."
    )
    targets: list[ExperimentIn] | None = None
    references: list[ExperimentIn] | None = None
    analyses: list[PkIn] | None = Field(
        default=None, description="Linked analyses. GET value limited to 50, POST unlimited."
    )
    project_level_analysis: ProjectIn | None = None
    individual_level_analysis: IndividualIn | None = None

    _results = field_validator("results", mode="after")(_never_null)


class AnalysisCreate(IsablCreate, AnalysisWrite):
    """Get or create an analysis: by (project_level_analysis, application) or
    (individual_level_analysis, application) when a level is set, else always new."""

    application: ApplicationIn


class AnalysisUpdate(AnalysisWrite):
    """Update an analysis."""

    application: ApplicationIn | None = None


class BulkStatus(enum.StrEnum):
    """The statuses `analyses/bulk_update` may set."""

    STAGED = "STAGED"
    SUBMITTED = "SUBMITTED"


class AnalysesBulkUpdate(Schema):
    """Set the status (and `ran_by`) of many analyses at once."""

    ids: list[int] = Field(description="A list of analyses keys.")
    status: BulkStatus
    ran_by: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")


# -------------------------------------------------------------------- signals
class SignalRead(IsablRead):
    """A signal record."""

    import_string: str
    target_endpoint: SignalEndpoint
    target_id: int
    slug: str


IMPORT_STRING = Field(min_length=1, max_length=1000, description="Signal import string.")


class SignalCreate(IsablCreate):
    """Get or create a signal by (import_string, target_endpoint, target_id)."""

    import_string: str = IMPORT_STRING
    target_endpoint: SignalEndpoint = Field(description="Resource the signal is related to.")
    target_id: int = Field(ge=0, le=2147483647, description="Related instance identifier.")


class SignalUpdate(IsablWrite):
    """Update a signal (its target is create-only)."""

    import_string: str = IMPORT_STRING


# -------------------------------------------------------------------- clients
class ClientRead(IsablRead):
    """A client's settings."""

    slug: str
    settings: dict[str, Any] = {}

    _settings = field_validator("settings", mode="before")(_never_null)


class ClientUpdate(IsablWrite):
    """Update a client's settings (the slug is create-only)."""

    settings: dict[str, Any] | None = None

    _settings = field_validator("settings", mode="after")(_never_null)


class ClientCreate(IsablCreate, ClientUpdate):
    """Get or create a client by slug."""

    slug: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[-a-zA-Z0-9_]+$",
        description="Uniquely identify this client instance.",
    )


# -------------------------------------------------------------- custom fields
class FieldType(enum.StrEnum):
    """The JSON types a custom field's values may have."""

    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"
    object = "object"
    array = "array"


class CustomFieldRead(IsablRead):
    """A custom field definition."""

    model: str
    field_name: str
    verbose_name: str | None = None
    configuration: dict[str, Any] = {}

    _configuration = field_validator("configuration", mode="before")(_never_null)


class Configuration(Schema):
    """How a custom field's values are checked: a JSON `type`, maybe `choices`."""

    model_config = ConfigDict(extra="allow")

    type: FieldType
    choices: list[Any] | None = None


class CustomFieldUpdate(IsablWrite):
    """Update a definition (model and field name are create-only)."""

    configuration: Configuration
    verbose_name: str | None = Field(default=None, max_length=200)


class CustomFieldCreate(IsablCreate, CustomFieldUpdate):
    """Get or create a definition by (model, field_name)."""

    model: str = Field(min_length=1, max_length=100, description="Model e.g. isabl_api.Individual.")
    field_name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^(_?[a-z0-9]+)+$",
        description="Only lower case and under scores (e.g. field_name).",
    )


# ---------------------------------------------------------------------- email
class EmailIn(Schema):
    """An e-mail to send (form-encoded, `recipients` repeated)."""

    recipients: list[str] = Field(min_length=1)
    subject: str = Field(min_length=1, max_length=998)
    content: str
    html_template: str | None = None
