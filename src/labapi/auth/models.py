"""Users of both surfaces. Secret columns carry `info={"secret": True}`: the query
compiler treats them as if they did not exist (SPEC §2)."""

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from labapi.core.models import Base, IdMixin, utcnow

SECRET = {"secret": True}


class User(IdMixin, Base):
    """A person or pipeline that calls the APIs."""

    __tablename__ = "auth_user"

    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    password: Mapped[str] = mapped_column(String(255), default="", info=SECRET)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    date_joined: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login: Mapped[dt.datetime | None]
