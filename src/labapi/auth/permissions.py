"""Model permissions, Django's way: `<app>.<action>_<model>`, granted directly or through
groups; a superuser has them all (SPEC §7)."""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import (
    Permission,
    User,
    group_permission,
    user_group,
    user_permission,
)

ACTIONS = ("add", "change", "delete", "view")
# What each generated route needs; reads need only an authenticated user.
ACTION_PERMISSIONS = {
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "delete": "delete",
}


def app_label(model: type[Any]) -> str:
    """The app a model belongs to: the surface package (`isabl`, `facility`, `auth`)."""
    return str(model.__module__).split(".")[1]


def model_label(model: type[Any]) -> str:
    """The model's permission name: its class name in lower case (`center`)."""
    return model.__name__.lower()


def permission_label(model: type[Any], action: str) -> str:
    """`isabl.add_center` for (Center, "add")."""
    return f"{app_label(model)}.{action}_{model_label(model)}"


async def user_permission_labels(session: AsyncSession, user: User) -> set[str]:
    """Every permission a user holds, directly or through a group."""
    direct = select(user_permission.c.permission_id).where(user_permission.c.user_id == user.id)
    via_groups = (
        select(group_permission.c.permission_id)
        .join(user_group, user_group.c.group_id == group_permission.c.group_id)
        .where(user_group.c.user_id == user.id)
    )
    rows = await session.execute(
        select(Permission.app_label, Permission.codename).where(
            or_(Permission.id.in_(direct), Permission.id.in_(via_groups))
        )
    )
    return {f"{app}.{codename}" for app, codename in rows}


async def has_permission(session: AsyncSession, user: User, label: str) -> bool:
    """Whether `user` may do what `label` names."""
    if user.is_superuser:
        return True
    return label in await user_permission_labels(session, user)
