"""Tables of the Isabl surface. Column names are the reference's field names."""

import datetime as dt
import enum
import re
import unicodedata
from typing import Any, ClassVar
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, Column, Enum, ForeignKey, String, Table, Text, UniqueConstraint
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
