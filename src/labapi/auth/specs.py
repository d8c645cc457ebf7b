"""The users resource of the Isabl surface, declared like every other resource."""

from typing import Any

from labapi.api.factory import ISABL, ResourceSpec
from labapi.auth import schemas
from labapi.auth.models import User
from labapi.core.errors import PermissionDenied
from labapi.core.services import ModelService


class UserService(ModelService):
    """Users are got or created by username; a new one has no usable password."""

    def check_actor(self, *, actor: Any | None, obj: Any, action: str) -> None:
        """Only a superuser may change or delete a superuser: otherwise `change_user`
        could take over an administrator (new e-mail, then a password reset)."""
        if obj.is_superuser and not (actor is not None and actor.is_superuser):
            raise PermissionDenied(f"Only a superuser may {action} a superuser.")


USERS = ResourceSpec(
    name="users",
    model=User,
    read=schemas.UserRead,
    create=schemas.UserCreate,
    update=schemas.UserUpdate,
    service=UserService(User),
    surface=ISABL,
    aliases={"group": "groups__name"},
    search=("username", "email", "first_name", "last_name"),
    extra_filters={"group": "Filter by groups__name."},
)
