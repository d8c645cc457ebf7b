"""Services of the Isabl resources: what each model derives and which objects it nests."""

from typing import Any, ClassVar

from labapi.auth.models import User
from labapi.core.services import ModelService
from labapi.isabl.models import (
    METHOD_CATEGORY,
    Assembly,
    Center,
    Disease,
    Group,
    Platform,
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
