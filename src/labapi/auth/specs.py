"""The users resource of the Isabl surface, declared like every other resource."""

from labapi.api.factory import ISABL, ResourceSpec
from labapi.auth import schemas
from labapi.auth.models import User
from labapi.core.services import ModelService


class UserService(ModelService):
    """Users are got or created by username; a new one has no usable password."""


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
