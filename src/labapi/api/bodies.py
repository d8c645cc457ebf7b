"""Request bodies: JSON (or form-encoded) validated by a schema, every problem a 400.

Handlers read their bodies here rather than through FastAPI parameters, so that the
credentials, the permission and the object are checked first: an unknown id is a 404 and
a caller without credentials a 401 whatever the body holds.
"""

from typing import Any, TypeVar, get_args, get_origin

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from labapi.core.errors import ErrorItem, ValidationFailed

BodyT = TypeVar("BodyT", bound=BaseModel)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_body(request: Request, schema: type[BodyT]) -> BodyT:
    """A JSON or form-encoded body validated by `schema` (400 with every bad field)."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(FORM_TYPES):
            form = await request.form()
            payload: Any = {key: _form_value(schema, key, form.getlist(key)) for key in form}
        else:
            raw = await request.body()
            payload = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(
            "the body is not valid JSON", [ErrorItem(("body",), str(exc), "json_invalid")]
        ) from None
    return validate_payload(payload, schema)


def validate_payload(payload: Any, schema: type[BodyT]) -> BodyT:
    """A body already read (JSON or form fields) validated by `schema`: NULs refused, every
    bad field a 400 at `["body", ...]`."""
    nul = _nul_at(payload, ("body",))
    if nul is not None:
        msg = "a NUL character is not allowed"
        raise ValidationFailed(msg, [ErrorItem(nul, msg, "string_nul")])
    try:
        return schema.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            "the body has invalid fields",
            [
                ErrorItem(("body", *error["loc"]), error["msg"], error["type"])
                for error in exc.errors(include_url=False)
            ],
        ) from None


def _form_value(schema: type[BaseModel], key: str, values: list[Any]) -> Any:
    """A form field's value: a list when the key is repeated or the schema's field is a
    list (`recipients=a&recipients=b`), else its one value."""
    field = schema.model_fields.get(key)
    annotation = field.annotation if field is not None else None
    if len(values) > 1 or _is_list(annotation):
        return values
    return values[0]


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(arg) is list for arg in get_args(annotation))


def _nul_at(value: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """Where a string of the body holds a NUL, if anywhere: PostgreSQL refuses NULs in text
    and JSONB, and a lookup or write with one would be a 500."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return (*loc, key)
        found = _nul_at(item, (*loc, key))
        if found is not None:
            return found
    return None
