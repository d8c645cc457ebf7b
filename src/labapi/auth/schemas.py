"""Bodies of the auth endpoints and of the users resource."""

from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from labapi.isabl.schemas import Schema, UpdateSchema

USERNAME_RULES: dict[str, Any] = {"min_length": 1, "max_length": 150, "pattern": r"^[\w.@+-]+$"}
USERNAME = Field(**USERNAME_RULES)


class Login(BaseModel):
    """`username` or `email`, and `password`."""

    model_config = ConfigDict(extra="ignore")

    username: str | None = Field(default=None, max_length=254)
    email: str | None = Field(default=None, max_length=254)
    password: str = Field(min_length=1, max_length=4096)


class LoginKey(BaseModel):
    """The API key to send as `Authorization: Token <key>`."""

    key: str


class FacilityToken(BaseModel):
    """The API key to send as `Authorization: Token <token>`."""

    token: str


class Detail(BaseModel):
    """A one-line outcome."""

    detail: str


class PasswordChange(BaseModel):
    """A new password, twice; `old_password` is checked when given."""

    old_password: str | None = Field(default=None, max_length=4096)
    new_password1: str = Field(min_length=1, max_length=128)
    new_password2: str = Field(min_length=1, max_length=128)


class PasswordReset(BaseModel):
    """The e-mail address to send a reset link to."""

    email: str = Field(min_length=1, max_length=254)


class PasswordResetConfirm(BaseModel):
    """The link's `uid` and `token`, and the new password twice."""

    uid: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=128)
    new_password1: str = Field(min_length=1, max_length=128)
    new_password2: str = Field(min_length=1, max_length=128)


class Registration(BaseModel):
    """A new account, inactive until its e-mail address is verified."""

    username: str = USERNAME
    email: EmailStr
    password1: str = Field(min_length=1, max_length=128)
    password2: str = Field(min_length=1, max_length=128)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)


class VerifyEmail(BaseModel):
    """The key from the verification e-mail."""

    key: str = Field(min_length=1, max_length=256)


class RestAuthUser(Schema):
    """The calling user, as rest-auth shows it."""

    pk: int
    username: str
    email: str
    first_name: str
    last_name: str
    preferences: dict[str, Any] = {}

    @field_validator("preferences", mode="before")
    @classmethod
    def _never_null(cls, value: Any) -> Any:
        return {} if value is None else value


class RestAuthUserUpdate(BaseModel):
    """What a user may change of itself (the e-mail address is read-only)."""

    model_config = ConfigDict(extra="ignore")

    username: str = USERNAME
    first_name: str | None = Field(default=None, max_length=30)
    last_name: str | None = Field(default=None, max_length=150)
    preferences: dict[str, Any] | None = None


class RestAuthUserPatch(RestAuthUserUpdate):
    """A partial update of the calling user."""

    # Optional here: `USERNAME` has no default, and reusing it made PATCH require it.
    username: str | None = Field(default=None, **USERNAME_RULES)  # type: ignore[assignment]


class Preferences(BaseModel):
    """The caller's preferences, with the grants only a superuser may change."""

    preferences: dict[str, Any] = {}
    permissions: list[str]
    groups: list[str]
    is_superuser: bool


class PreferencesPatch(BaseModel):
    """A partial update of the caller's preferences."""

    model_config = ConfigDict(extra="ignore")

    preferences: dict[str, Any] | None = None
    permissions: list[str] | None = None
    groups: list[str] | None = None
    is_superuser: bool | None = None


class UserRead(Schema):
    """A user of the Isabl surface (no secret ever rendered)."""

    pk: int
    username: str
    email: str
    first_name: str
    last_name: str
    model_name: str
    is_active: bool


class UserCreate(Schema):
    """Get or create a user by username (no password: set it by password reset)."""

    pk: int | None = None
    username: str = USERNAME
    email: EmailStr | None = Field(default=None, max_length=254)
    first_name: str | None = Field(default=None, max_length=30)
    last_name: str | None = Field(default=None, max_length=150)


class UserUpdate(UpdateSchema):
    """Update a user's names and e-mail."""

    username: str = USERNAME
    email: EmailStr | None = Field(default=None, max_length=254)
    first_name: str | None = Field(default=None, max_length=30)
    last_name: str | None = Field(default=None, max_length=150)
