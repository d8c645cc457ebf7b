"""Tables of the Isabl surface. Column names are the reference's field names."""

import datetime as dt
import enum
import re
import unicodedata
from typing import Any, ClassVar
from uuid import UUID, uuid4

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Enum,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from labapi.auth.models import User
from labapi.core.models import Base, IdMixin, utcnow


def slugify(*parts: object) -> str:
    """Django's slugify over the parts joined by spaces: lowercase ASCII words and dashes."""
    text = " ".join(str(part) for part in parts if part not in (None, ""))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[-\s]+", "-", text).strip("-_")


class Species(enum.StrEnum):
    """Species of individuals and assemblies."""

    HUMAN = "HUMAN"
    MOUSE = "MOUSE"


class Method(enum.StrEnum):
    """Experimental technique methods."""

    RS = "RS"
    CS = "CS"
    AT = "AT"
    TR = "TR"
    TD = "TD"
    WE = "WE"
    WG = "WG"
    WT = "WT"
    MD = "MD"
    HE = "HE"
    IH = "IH"
    IF = "IF"


METHOD_CATEGORY = {
    **dict.fromkeys(("WG", "WE", "TD", "CS", "MD", "AT"), "DNA"),
    **dict.fromkeys(("TR", "WT", "RS"), "RNA"),
    **dict.fromkeys(("HE", "IH", "IF"), "IMAGING"),
}


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    """An enum stored as its member names in a VARCHAR, so it sorts by name everywhere."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=max(len(member.name) for member in enum_cls),
        validate_strings=True,
    )


class Tag(IdMixin, Base):
    """A free label attached to any Isabl object."""

    __tablename__ = "tag"
    get_or_create_key: ClassVar[tuple[str, ...]] = ("name",)

    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), default="", index=True)


class IsablModel(IdMixin, Base):
    """Fields every Isabl object carries (the original BaseModel), tags included."""

    __abstract__ = True

    # Unique-together key used by get-or-create (SPEC §5); empty means "always new".
    get_or_create_key: ClassVar[tuple[str, ...]] = ()

    uuid: Mapped[UUID] = mapped_column(default=uuid4, unique=True)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    modified: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    storage_url: Mapped[str | None] = mapped_column(String(1000))
    storage_usage: Mapped[int | None] = mapped_column(BigInteger)

    @declared_attr
    @classmethod
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey(User.id, ondelete="RESTRICT"), index=True)

    @declared_attr
    @classmethod
    def created_by(cls) -> Mapped[User | None]:
        return relationship(User, lazy="raise", foreign_keys=[cls.created_by_id])

    @declared_attr
    @classmethod
    def tags(cls) -> Mapped[list[Tag]]:
        owner = cls.__tablename__
        link = Table(
            f"{owner}_tag",
            Base.metadata,
            Column(
                f"{owner}_id",
                ForeignKey(f"{owner}.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            Column("tag_id", ForeignKey(Tag.id, ondelete="CASCADE"), primary_key=True, index=True),
        )
        return relationship(Tag, secondary=link, lazy="raise", order_by=Tag.id)


class Center(IsablModel):
    """A sequencing or research center."""

    __tablename__ = "center"
    __table_args__ = (UniqueConstraint("name", "acronym"),)
    get_or_create_key = ("name", "acronym")

    name: Mapped[str] = mapped_column(String(100))
    acronym: Mapped[str] = mapped_column(String(10))
    slug: Mapped[str] = mapped_column(String(120), unique=True)


class Disease(IsablModel):
    """A disease individuals may be diagnosed with."""

    __tablename__ = "disease"
    __table_args__ = (UniqueConstraint("name", "acronym"),)
    get_or_create_key = ("name", "acronym")

    name: Mapped[str] = mapped_column(String(1000))
    acronym: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(1030), unique=True)


class Group(IsablModel):
    """A research group (not a permission group)."""

    __tablename__ = "research_group"
    __table_args__ = (UniqueConstraint("name", "acronym"),)
    get_or_create_key = ("name", "acronym")

    name: Mapped[str] = mapped_column(String(100))
    acronym: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(130), unique=True)


class Platform(IsablModel):
    """A sequencing or imaging platform."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("manufacturer", "system", "version"),)
    get_or_create_key = ("manufacturer", "system", "version")

    manufacturer: Mapped[str] = mapped_column(String(100))
    system: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(310), unique=True)


class Technique(IsablModel):
    """An experimental technique; its category follows from its method."""

    __tablename__ = "technique"
    __table_args__ = (UniqueConstraint("method", "name"),)
    get_or_create_key = ("method", "name")

    method: Mapped[Method] = mapped_column(enum_column(Method))
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(110), unique=True)
    category: Mapped[str] = mapped_column(String(10), index=True)
    reference_data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Assembly(IsablModel):
    """A reference genome assembly and its reference files."""

    __tablename__ = "assembly"
    get_or_create_key = ("name",)

    name: Mapped[str] = mapped_column(String(100), unique=True)
    species: Mapped[Species] = mapped_column(enum_column(Species))
    reference_data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Gender(enum.StrEnum):
    """Gender of individuals."""

    FEMALE = "FEMALE"
    MALE = "MALE"
    UNKNOWN = "UNKNOWN"


class SampleCategory(enum.StrEnum):
    """Sample categories."""

    TUMOR = "TUMOR"
    NORMAL = "NORMAL"


class Individual(IsablModel):
    """A person or animal that samples are taken from."""

    __tablename__ = "individual"
    __table_args__ = (UniqueConstraint("species", "center_id", "identifier"),)
    get_or_create_key = ("species", "center", "identifier")

    identifier: Mapped[str] = mapped_column(String(100), index=True)
    system_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    species: Mapped[Species] = mapped_column(enum_column(Species))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender), default=Gender.UNKNOWN)
    birth_year: Mapped[int | None]
    center_id: Mapped[int] = mapped_column(ForeignKey(Center.id, ondelete="RESTRICT"), index=True)
    center: Mapped[Center] = relationship(lazy="raise")
    # Reverse relations are read-only paths for filters (`samples`, `experiments`).
    samples: Mapped[list["Sample"]] = relationship(
        lazy="raise", viewonly=True, order_by="Sample.id"
    )


class Sample(IsablModel):
    """A sample taken from an individual."""

    __tablename__ = "sample"
    __table_args__ = (UniqueConstraint("individual_id", "category", "identifier"),)
    get_or_create_key = ("individual", "category", "identifier")

    identifier: Mapped[str] = mapped_column(String(100), index=True)
    system_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    category: Mapped[SampleCategory] = mapped_column(enum_column(SampleCategory))
    collection_days: Mapped[int | None]
    individual_id: Mapped[int] = mapped_column(
        ForeignKey(Individual.id, ondelete="RESTRICT"), index=True
    )
    individual: Mapped[Individual] = relationship(lazy="raise")
    disease_id: Mapped[int | None] = mapped_column(
        ForeignKey(Disease.id, ondelete="RESTRICT"), index=True
    )
    disease: Mapped[Disease | None] = relationship(lazy="raise")
    aliquots: Mapped[list["Aliquot"]] = relationship(
        lazy="raise", viewonly=True, order_by="Aliquot.id"
    )
    experiments: Mapped[list["Experiment"]] = relationship(
        lazy="raise", viewonly=True, order_by="Experiment.id"
    )


class Aliquot(IsablModel):
    """A portion of a sample."""

    __tablename__ = "aliquot"
    __table_args__ = (UniqueConstraint("sample_id", "identifier"),)
    get_or_create_key = ("sample", "identifier")

    identifier: Mapped[str] = mapped_column(String(100), index=True)
    system_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey(Sample.id, ondelete="RESTRICT"), index=True)
    sample: Mapped[Sample] = relationship(lazy="raise")


class Project(IsablModel):
    """A project grouping experiments."""

    __tablename__ = "project"

    title: Mapped[str | None] = mapped_column(String(100), index=True)
    short_title: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(String(1000))
    principal_investigator: Mapped[str | None] = mapped_column(String(254))
    owner: Mapped[str | None] = mapped_column(String(254))
    analyst: Mapped[str | None] = mapped_column(String(254))
    coordinator: Mapped[str | None] = mapped_column(String(254))
    sharing: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey(Group.id, ondelete="RESTRICT"), index=True
    )
    group: Mapped[Group | None] = relationship(lazy="raise")
    experiments: Mapped[list["Experiment"]] = relationship(
        secondary="experiment_project", lazy="raise", viewonly=True, order_by="Experiment.id"
    )


experiment_project = Table(
    "experiment_project",
    Base.metadata,
    Column("experiment_id", ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    # `projects=` filters read the experiments of a project from this index alone.
    Index("ix_experiment_project_project_id_experiment_id", "project_id", "experiment_id"),
)


class Experiment(IsablModel):
    """A sequencing or imaging experiment on a sample (or one of its aliquots)."""

    __tablename__ = "experiment"
    __table_args__ = (UniqueConstraint("sample_id", "aliquot_id", "technique_id", "identifier"),)
    get_or_create_key = ("sample", "aliquot", "technique", "identifier")

    identifier: Mapped[str | None] = mapped_column(String(100), index=True)
    system_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey(Sample.id, ondelete="RESTRICT"), index=True)
    sample: Mapped[Sample] = relationship(lazy="raise")
    aliquot_id: Mapped[int | None] = mapped_column(
        ForeignKey(Aliquot.id, ondelete="RESTRICT"), index=True
    )
    aliquot: Mapped[Aliquot | None] = relationship(lazy="raise")
    technique_id: Mapped[int] = mapped_column(
        ForeignKey(Technique.id, ondelete="RESTRICT"), index=True
    )
    technique: Mapped[Technique] = relationship(lazy="raise")
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey(Platform.id, ondelete="RESTRICT"), index=True
    )
    platform: Mapped[Platform | None] = relationship(lazy="raise")
    center_id: Mapped[int | None] = mapped_column(
        ForeignKey(Center.id, ondelete="RESTRICT"), index=True
    )
    center: Mapped[Center | None] = relationship(lazy="raise")
    projects: Mapped[list[Project]] = relationship(
        secondary=experiment_project, lazy="raise", order_by=Project.id
    )
    # A list or null; null stays null (SQL NULL, not JSON `null`).
    raw_data: Mapped[list[Any] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    )
    bam_files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Reverse relations of analyses, read-only; `results` are the finished ones (SPEC §5).
    analyses_as_target: Mapped[list["Analysis"]] = relationship(
        secondary="analysis_target", lazy="raise", viewonly=True, order_by="Analysis.id"
    )
    analyses_as_reference: Mapped[list["Analysis"]] = relationship(
        secondary="analysis_reference", lazy="raise", viewonly=True, order_by="Analysis.id"
    )
    # Summaries, not analyses: a summary loaded here never stands in for (nor, under
    # populate_existing, resets) an analysis loaded in full elsewhere in the same request.
    results: Mapped[list["AnalysisSummary"]] = relationship(
        secondary="analysis_target",
        secondaryjoin=lambda: and_(
            AnalysisSummary.id == analysis_target.c.analysis_id,
            AnalysisSummary.status.in_(RESULT_STATUSES),
        ),
        lazy="raise",
        viewonly=True,
        order_by="AnalysisSummary.id",
    )

    @hybrid_property
    def aliquot_identifier(self) -> str | None:
        """The aliquot's identifier (the reference's `aliquot_id`)."""
        return self.aliquot.identifier if self.aliquot is not None else None

    @aliquot_identifier.inplace.expression
    @classmethod
    def _aliquot_identifier_sql(cls) -> Any:
        return (
            select(Aliquot.identifier)
            .where(Aliquot.id == cls.aliquot_id)
            .correlate_except(Aliquot)
            .scalar_subquery()
        )


# ---------------------------------------------------------------- submissions
# Excel submissions (SPEC §5): the form, the report of its last processing in `data`, and
# the objects it created (`submission` on individuals, samples and experiments).
submission_project = Table(
    "submission_project",
    Base.metadata,
    Column("submission_id", ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Submission(IsablModel):
    """An uploaded submission form and the report of its processing (`data`)."""

    __tablename__ = "submission"

    description: Mapped[str | None] = mapped_column(String(140))
    # Path of the stored form relative to the media root (`LABAPI_MEDIA_ROOT`).
    submission_form: Mapped[str | None] = mapped_column(String(1000))
    # The file name the form was uploaded with.
    submission_form_name: Mapped[str | None] = mapped_column(String(255))
    processed: Mapped[dt.datetime | None] = mapped_column(index=True)
    projects: Mapped[list[Project]] = relationship(
        secondary=submission_project, lazy="raise", order_by=Project.id
    )
    individuals: Mapped[list[Individual]] = relationship(
        lazy="raise", viewonly=True, order_by=Individual.id
    )
    samples: Mapped[list[Sample]] = relationship(lazy="raise", viewonly=True, order_by=Sample.id)
    experiments: Mapped[list[Experiment]] = relationship(
        lazy="raise", viewonly=True, order_by=Experiment.id
    )


# The objects a submission created point to it. Declared here rather than in their classes
# so that the submissions block stays in one piece; declarative maps the assignments.
for _model in (Individual, Sample, Experiment):
    _model.submission_id = mapped_column(  # type: ignore[attr-defined]
        ForeignKey(Submission.id, ondelete="RESTRICT"), index=True, nullable=True
    )
    _model.submission = relationship(  # type: ignore[attr-defined]
        Submission,
        lazy="raise",
        foreign_keys=[_model.submission_id],  # type: ignore[attr-defined]
    )
del _model


class Application(IsablModel):
    """A versioned pipeline, maybe bound to an assembly; its analyses run it."""

    __tablename__ = "application"
    # A NULL assembly matches NULL (SPEC §5): PostgreSQL is told so; SQLite serialises
    # writers, so its get-or-create never races.
    __table_args__ = (
        UniqueConstraint("name", "version", "assembly_id", postgresql_nulls_not_distinct=True),
    )
    get_or_create_key = ("name", "version", "assembly")

    name: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(100))
    assembly_id: Mapped[int | None] = mapped_column(
        ForeignKey(Assembly.id, ondelete="RESTRICT"), index=True
    )
    assembly: Mapped[Assembly | None] = relationship(lazy="raise")
    application_class: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(300))
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AnalysisStatus(enum.StrEnum):
    """Analysis life-cycle states: the reference's, plus REJECTED."""

    CREATED = "CREATED"
    FAILED = "FAILED"
    FINISHED = "FINISHED"
    IN_PROGRESS = "IN_PROGRESS"
    REJECTED = "REJECTED"
    STAGED = "STAGED"
    STARTED = "STARTED"
    SUBMITTED = "SUBMITTED"
    SUCCEEDED = "SUCCEEDED"


# The analyses an experiment shows as its `results`.
RESULT_STATUSES = (AnalysisStatus.SUCCEEDED, AnalysisStatus.IN_PROGRESS)


def _link_table(name: str, left: str, right: str, right_table: str) -> Table:
    """A many-to-many link from analyses; both sides cascade, as Django's M2M rows do."""
    return Table(
        name,
        Base.metadata,
        Column(left, ForeignKey("analysis.id", ondelete="CASCADE"), primary_key=True),
        Column(
            right, ForeignKey(f"{right_table}.id", ondelete="CASCADE"), primary_key=True, index=True
        ),
    )


analysis_target = _link_table("analysis_target", "analysis_id", "experiment_id", "experiment")
analysis_reference = _link_table("analysis_reference", "analysis_id", "experiment_id", "experiment")
analysis_analysis = _link_table(
    "analysis_analysis", "from_analysis_id", "to_analysis_id", "analysis"
)


class Analysis(IsablModel):
    """One run of an application on target and reference experiments, or on a whole
    project or individual (the `*_level_analysis` merges)."""

    __tablename__ = "analysis"
    # No fixed key: (level, application) only when a level is set (`AnalysisService.find`).
    # NULLs are distinct here on purpose: without a level, every POST is a new analysis.
    __table_args__ = (
        UniqueConstraint("project_level_analysis_id", "application_id"),
        UniqueConstraint("individual_level_analysis_id", "application_id"),
    )

    application_id: Mapped[int] = mapped_column(
        ForeignKey(Application.id, ondelete="RESTRICT"), index=True
    )
    application: Mapped[Application] = relationship(lazy="raise")
    status: Mapped[AnalysisStatus] = mapped_column(
        enum_column(AnalysisStatus), default=AnalysisStatus.CREATED, index=True
    )
    previous_status: Mapped[AnalysisStatus | None] = mapped_column(enum_column(AnalysisStatus))
    submitted: Mapped[dt.datetime | None] = mapped_column(index=True)
    started: Mapped[dt.datetime | None] = mapped_column(index=True)
    finished: Mapped[dt.datetime | None] = mapped_column(index=True)
    wait_time: Mapped[float | None]
    run_time: Mapped[float | None]
    ran_by: Mapped[str | None] = mapped_column(String(150), index=True)
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    project_level_analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey(Project.id, ondelete="RESTRICT"), index=True
    )
    project_level_analysis: Mapped[Project | None] = relationship(lazy="raise")
    individual_level_analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey(Individual.id, ondelete="RESTRICT"), index=True
    )
    individual_level_analysis: Mapped[Individual | None] = relationship(lazy="raise")
    targets: Mapped[list[Experiment]] = relationship(
        secondary=analysis_target, lazy="raise", order_by=Experiment.id
    )
    references: Mapped[list[Experiment]] = relationship(
        secondary=analysis_reference, lazy="raise", order_by=Experiment.id
    )
    # Linked analyses are shown as pks only: references (see `AnalysisRef`).
    analyses: Mapped[list["AnalysisRef"]] = relationship(
        secondary=analysis_analysis,
        primaryjoin=lambda: Analysis.id == analysis_analysis.c.from_analysis_id,
        secondaryjoin=lambda: AnalysisRef.id == analysis_analysis.c.to_analysis_id,
        lazy="raise",
        order_by=lambda: AnalysisRef.id,
    )


class ExperimentSummary(Base):
    """An experiment's pk and system id, a class of its own on the experiment table: what
    an experiment's `results` show of their experiments."""

    # An alias: a join between this class and `Experiment` names two tables, not one.
    __table__ = Experiment.__table__.alias("experiment_summary")
    __mapper_args__ = {"include_properties": ["id", "system_id"]}


class AnalysisSummary(Base):
    """What an experiment's `results` show of an analysis, a class of its own on the
    analysis table (so never confused with a full `Analysis`)."""

    # An alias: `Analysis.analyses` joins the analysis table to itself.
    __table__ = Analysis.__table__.alias("analysis_summary")
    __mapper_args__ = {
        "include_properties": [
            "id",
            "status",
            "results",
            "storage_url",
            "run_time",
            "wait_time",
            "application_id",
        ]
    }

    application: Mapped[Application] = relationship(lazy="raise", viewonly=True)
    target_refs: Mapped[list[ExperimentSummary]] = relationship(
        secondary=analysis_target, lazy="raise", viewonly=True, order_by=ExperimentSummary.id
    )
    reference_refs: Mapped[list[ExperimentSummary]] = relationship(
        secondary=analysis_reference,
        lazy="raise",
        viewonly=True,
        order_by=ExperimentSummary.id,
    )
    analyses: Mapped[list["AnalysisRef"]] = relationship(
        secondary=analysis_analysis,
        primaryjoin=lambda: AnalysisSummary.id == analysis_analysis.c.from_analysis_id,
        secondaryjoin=lambda: AnalysisRef.id == analysis_analysis.c.to_analysis_id,
        lazy="raise",
        viewonly=True,
        order_by=lambda: AnalysisRef.id,
    )


class AnalysisRef(Base):
    """A linked analysis, pk only: what `analyses` show, on an analysis and on a result.

    A class of its own, with nothing to load: when a result links another result of the
    same experiment, a summary loaded as the link would, under populate_existing, reset
    the application and experiments loaded for the result."""

    __table__ = Analysis.__table__.alias("analysis_ref")
    __mapper_args__ = {"include_properties": ["id"]}


class SignalEndpoint(enum.StrEnum):
    """The resources a signal may point at."""

    analyses = "analyses"
    experiments = "experiments"


class Signal(IsablModel):
    """A record of a client-side signal (a hook) that ran, or failed, on an object."""

    __tablename__ = "signal"
    __table_args__ = (UniqueConstraint("import_string", "target_endpoint", "target_id"),)
    get_or_create_key = ("import_string", "target_endpoint", "target_id")

    import_string: Mapped[str] = mapped_column(String(1000))
    target_endpoint: Mapped[SignalEndpoint] = mapped_column(enum_column(SignalEndpoint))
    target_id: Mapped[int] = mapped_column(index=True)
    slug: Mapped[str] = mapped_column(String(1100), index=True)


class Client(IsablModel):
    """The settings of one isabl_cli installation (or of the backend), by slug."""

    __tablename__ = "client"
    get_or_create_key = ("slug",)

    slug: Mapped[str] = mapped_column(String(100), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CustomField(IsablModel):
    """A definition of a key of some model's `custom_fields`: its values are validated
    against `configuration["type"]` on every write."""

    __tablename__ = "custom_field"
    __table_args__ = (UniqueConstraint("model", "field_name"),)
    get_or_create_key = ("model", "field_name")

    model: Mapped[str] = mapped_column(String(100))
    field_name: Mapped[str] = mapped_column(String(100))
    verbose_name: Mapped[str | None] = mapped_column(String(200))
    configuration: Mapped[dict[str, Any]] = mapped_column(default=dict)
