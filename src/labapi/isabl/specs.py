"""The Isabl resources, each declared once; `api.factory` generates their routes."""

from labapi.api.factory import ISABL, ResourceSpec
from labapi.isabl import schemas as s
from labapi.isabl import services
from labapi.isabl.models import (
    Aliquot,
    Analysis,
    Application,
    Assembly,
    Center,
    Client,
    CustomField,
    Disease,
    Experiment,
    Group,
    Individual,
    Platform,
    Project,
    Sample,
    Signal,
    Submission,
    Tag,
    Technique,
)

# Shorthands every Isabl object has (the reference's "Filter by tags__name." …).
BASE_ALIASES = {"tags": "tags__name", "created_by": "created_by__username"}

TAGS = ResourceSpec(
    name="tags",
    model=Tag,
    read=s.TagRead,
    create=s.TagCreate,
    update=s.TagUpdate,
    service=services.tag_service,
    surface=ISABL,
    search=("name", "slug"),
)
CENTERS = ResourceSpec(
    name="centers",
    model=Center,
    read=s.CenterRead,
    create=s.CenterCreate,
    update=s.CenterUpdate,
    service=services.center_service,
    aliases=BASE_ALIASES,
    search=("name", "acronym", "slug"),
)
DISEASES = ResourceSpec(
    name="diseases",
    model=Disease,
    read=s.DiseaseRead,
    create=s.DiseaseCreate,
    update=s.DiseaseUpdate,
    service=services.disease_service,
    aliases=BASE_ALIASES,
    search=("name", "acronym", "slug"),
)
GROUPS = ResourceSpec(
    name="groups",
    model=Group,
    read=s.GroupRead,
    create=s.GroupCreate,
    update=s.GroupUpdate,
    service=services.group_service,
    aliases=BASE_ALIASES,
    search=("name", "acronym", "slug"),
)
PLATFORMS = ResourceSpec(
    name="platforms",
    model=Platform,
    read=s.PlatformRead,
    create=s.PlatformCreate,
    update=s.PlatformUpdate,
    service=services.platform_service,
    aliases=BASE_ALIASES,
    search=("manufacturer", "system", "version", "slug"),
)
TECHNIQUES = ResourceSpec(
    name="techniques",
    model=Technique,
    read=s.TechniqueRead,
    create=s.TechniqueCreate,
    update=s.TechniqueUpdate,
    service=services.technique_service,
    aliases=BASE_ALIASES,
    search=("name", "slug", "method"),
)
ASSEMBLIES = ResourceSpec(
    name="assemblies",
    model=Assembly,
    read=s.AssemblyRead,
    create=s.AssemblyCreate,
    update=s.AssemblyUpdate,
    service=services.assembly_service,
    aliases=BASE_ALIASES,
    search=("name",),
)

INDIVIDUALS = ResourceSpec(
    name="individuals",
    model=Individual,
    read=s.IndividualRead,
    create=s.IndividualCreate,
    update=s.IndividualUpdate,
    service=services.individual_service,
    aliases={
        **BASE_ALIASES,
        "sampless": "samples",
        "experiments": "samples__experiments",
        "projects": "samples__experiments__projects",
    },
    search=("identifier", "system_id"),
)
SAMPLES = ResourceSpec(
    name="samples",
    model=Sample,
    read=s.SampleRead,
    create=s.SampleCreate,
    update=s.SampleUpdate,
    service=services.sample_service,
    aliases={
        **BASE_ALIASES,
        "experimentss": "experiments",
        "projects": "experiments__projects",
    },
    search=("identifier", "system_id"),
)
ALIQUOTS = ResourceSpec(
    name="aliquots",
    model=Aliquot,
    read=s.AliquotRead,
    create=s.AliquotCreate,
    update=s.AliquotUpdate,
    service=services.aliquot_service,
    aliases=BASE_ALIASES,
    search=("identifier", "system_id"),
)
EXPERIMENTS = ResourceSpec(
    name="experiments",
    model=Experiment,
    read=s.ExperimentRead,
    create=s.ExperimentCreate,
    update=s.ExperimentUpdate,
    service=services.experiment_service,
    in_place=("sample",),
    aliases={
        **BASE_ALIASES,
        "aliquot_id": "aliquot__identifier",
        "individual": "sample__individual",
        # `has_bam_for=GRCh37`: a BAM file is registered for that assembly.
        "has_bam_for": "bam_files__has_key",
    },
    search=("identifier", "system_id"),
)
PROJECTS = ResourceSpec(
    name="projects",
    model=Project,
    read=s.ProjectRead,
    create=s.ProjectCreate,
    update=s.ProjectUpdate,
    service=services.project_service,
    aliases={**BASE_ALIASES, "experimentss": "experiments"},
    search=("title", "short_title"),
)

APPLICATIONS = ResourceSpec(
    name="applications",
    model=Application,
    read=s.ApplicationRead,
    create=s.ApplicationCreate,
    update=s.ApplicationUpdate,
    service=services.application_service,
    aliases=BASE_ALIASES,
    search=("name", "version", "application_class"),
)
ANALYSES = ResourceSpec(
    name="analyses",
    model=Analysis,
    title="analysis",
    read=s.AnalysisRead,
    create=s.AnalysisCreate,
    update=s.AnalysisUpdate,
    service=services.analysis_service,
    aliases={
        **BASE_ALIASES,
        "name": "application__name",
        "version": "application__version",
        "description": "application__description",
        # The projects of the analysis' targets.
        "projects": "targets__projects",
        # The reference spells it so (Django's id -> pk rename reached this name too).
        "indivpkual_level_analysis": "individual_level_analysis",
    },
    search=("status", "ran_by", "application__name", "application__version"),
)
SIGNALS = ResourceSpec(
    name="signals",
    model=Signal,
    read=s.SignalRead,
    create=s.SignalCreate,
    update=s.SignalUpdate,
    service=services.signal_service,
    aliases=BASE_ALIASES,
    search=("import_string", "slug", "target_endpoint"),
)
CLIENTS = ResourceSpec(
    name="clients",
    model=Client,
    read=s.ClientRead,
    create=s.ClientCreate,
    update=s.ClientUpdate,
    service=services.client_service,
    aliases=BASE_ALIASES,
    search=("slug",),
)
CUSTOM_FIELDS = ResourceSpec(
    name="custom_fields",
    model=CustomField,
    title="custom field",
    read=s.CustomFieldRead,
    create=s.CustomFieldCreate,
    update=s.CustomFieldUpdate,
    service=services.custom_field_service,
    aliases=BASE_ALIASES,
    search=("field_name", "model", "verbose_name"),
)

REGISTRY: tuple[ResourceSpec, ...] = (
    ALIQUOTS,
    ANALYSES,
    APPLICATIONS,
    ASSEMBLIES,
    CENTERS,
    CLIENTS,
    CUSTOM_FIELDS,
    DISEASES,
    EXPERIMENTS,
    GROUPS,
    INDIVIDUALS,
    PLATFORMS,
    PROJECTS,
    SAMPLES,
    SIGNALS,
    TAGS,
    TECHNIQUES,
)

# ---------------------------------------------------------------- submissions
# Create and update are hand-written in `isabl.submissions` (multipart uploads of the form).
SUBMISSIONS = ResourceSpec(
    name="submissions",
    model=Submission,
    read=s.SubmissionRead,
    create=s.SubmissionCreate,
    update=s.SubmissionUpdate,
    service=services.submission_service,
    aliases=BASE_ALIASES,
    search=("description", "submission_form_name"),
    handwritten=("create", "update", "partial_update"),
)
REGISTRY += (SUBMISSIONS,)
