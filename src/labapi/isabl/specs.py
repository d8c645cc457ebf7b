"""The Isabl resources, each declared once; `api.factory` generates their routes."""

from labapi.api.factory import ISABL, ResourceSpec
from labapi.isabl import schemas as s
from labapi.isabl import services
from labapi.isabl.models import Assembly, Center, Disease, Group, Platform, Tag, Technique

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

REGISTRY: tuple[ResourceSpec, ...] = (
    ASSEMBLIES,
    CENTERS,
    DISEASES,
    GROUPS,
    PLATFORMS,
    TAGS,
    TECHNIQUES,
)
