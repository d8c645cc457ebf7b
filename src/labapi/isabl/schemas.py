"""Request and response bodies of the Isabl surface (SPEC §5 representations)."""

import datetime as dt
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labapi.isabl.models import Method, Species

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
