"""Users, groups, permissions, tokens and the mail outbox, shared by both surfaces.

Secret columns and relationships carry `info={"secret": True}`: the query compiler treats
them as if they did not exist (SPEC §2), and no schema renders them.
"""

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from labapi.core.models import Base, IdMixin, utcnow

SECRET = {"secret": True}


def _link(name: str, left: str, right: str) -> Table:
    return Table(
        name,
        Base.metadata,
        Column(f"{left}_id", ForeignKey(f"auth_{left}.id", ondelete="CASCADE"), primary_key=True),
        Column(
            f"{right}_id",
            ForeignKey(f"auth_{right}.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )


user_group = _link("auth_user_group", "user", "group")
user_permission = _link("auth_user_permission", "user", "permission")
group_permission = _link("auth_group_permission", "group", "permission")


class Permission(IdMixin, Base):
    """A model permission, Django's way: `<app>.<action>_<model>` (`isabl.add_center`)."""

    __tablename__ = "auth_permission"
    __table_args__ = (UniqueConstraint("app_label", "codename"),)

    app_label: Mapped[str] = mapped_column(String(100))
    codename: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))

    @property
    def label(self) -> str:
        """`app_label.codename`, as permission checks name it."""
        return f"{self.app_label}.{self.codename}"


class Group(IdMixin, Base):
    """A permission group (not an Isabl research group)."""

    __tablename__ = "auth_group"

    name: Mapped[str] = mapped_column(String(150), unique=True)
    permissions: Mapped[list[Permission]] = relationship(
        secondary=group_permission, lazy="raise", order_by=Permission.id, passive_deletes=True
    )


class User(IdMixin, Base):
    """A person or pipeline that calls the APIs."""

    __tablename__ = "auth_user"
    get_or_create_key: ClassVar[tuple[str, ...]] = ("username",)

    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    password: Mapped[str] = mapped_column(String(255), default="", info=SECRET)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    date_joined: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login: Mapped[dt.datetime | None]

    groups: Mapped[list[Group]] = relationship(
        secondary=user_group, lazy="raise", order_by=Group.id, passive_deletes=True
    )
    user_permissions: Mapped[list[Permission]] = relationship(
        secondary=user_permission, lazy="raise", order_by=Permission.id, passive_deletes=True
    )
    tokens: Mapped[list["Token"]] = relationship(
        back_populates="user", lazy="raise", passive_deletes=True, info=SECRET
    )


class Token(IdMixin, Base):
    """An API key. Only its SHA-256 is stored: the key itself is shown once, at login."""

    __tablename__ = "auth_token"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True, info=SECRET)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"), index=True)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens", lazy="raise")


class OutboxMessage(IdMixin, Base):
    """An e-mail: sent through SMTP when one is configured, kept here either way."""

    __tablename__ = "outbox"

    recipients: Mapped[list[str]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(998))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
