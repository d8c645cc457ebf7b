"""OpenAPI text for generated routes: the query language, list parameters, problems."""

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect

from labapi.query import OPERATORS, TRANSFORMS, Kind
from labapi.query.resolve import base_type, column_kind, is_secret

if TYPE_CHECKING:
    from labapi.api.factory import ResourceSpec


class ProblemItem(BaseModel):
    """One bad field or parameter."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemItem] | None = None
    request_id: str | None = None


_STATUS_TEXT = {
    400: "Invalid parameter or body (problem+json, one `errors` entry per problem)",
    401: "No valid credentials (Token, Bearer or Basic)",
    403: "The user lacks the model permission this action needs",
    404: "No such object",
    409: "Conflicts with stored data",
    413: "The body is larger than the configured limit",
    414: "The query string is longer than the configured limit",
    416: "No requested byte range overlaps the file (`Content-Range: bytes */<size>`)",
    429: "Too many failed logins; `Retry-After` says when to try again",
    503: "The database cannot be reached or is too busy; `Retry-After` says when to try again",
}
_WRITES = ("create", "update", "partial_update", "delete")
_ACTION_STATUSES = {
    "list": (400,),
    "create": (400, 409),
    "read": (400, 404),
    "update": (400, 404, 409),
    "partial_update": (400, 404, 409),
    "delete": (404, 409),
    "describe": (),
}


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_content() -> dict[str, Any]:
    """The problem+json content of an error response (Problem is in the components)."""
    return {"application/problem+json": {"schema": PROBLEM_REF}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Documented problem+json responses for these statuses."""
    return {
        status: {"description": _STATUS_TEXT[status], "content": problem_content()}
        for status in sorted(set(statuses))
    }


def problem_responses(action: str) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a generated action (all need credentials)."""
    return problems(*_ACTION_STATUSES[action], 401, *((403,) if action in _WRITES else ()))


def complete_responses(document: dict[str, Any]) -> None:
    """Document, on every operation, the statuses that come from the layers around the
    handlers rather than from the handlers: FastAPI's 422 is our 400, a body may be a 413,
    a query string a 414 or 400, credentials a 429 (Basic logins are throttled), the
    database a 503 (every operation but `/healthz` may touch it)."""
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            statuses = [400, 414]
            if responses.pop("422", None) is not None:
                statuses.append(400)
            if "requestBody" in operation:
                statuses.append(413)
            if "401" in responses:
                statuses.append(429)
            if path != "/healthz":
                statuses.append(503)
            for status, response in problems(*statuses).items():
                responses.setdefault(str(status), response)


def problem_schemas() -> dict[str, Any]:
    """Problem and ProblemItem, for the OpenAPI components."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}


_KIND_SCHEMAS: dict[Kind, dict[str, Any]] = {
    Kind.INTEGER: {"type": "integer"},
    Kind.FLOAT: {"type": "number"},
    Kind.DECIMAL: {"type": "number"},
    Kind.BOOLEAN: {"type": "boolean"},
}


def _filter_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def list_parameters(spec: "ResourceSpec") -> list[dict[str, Any]]:
    """Reserved parameters of the surface, then one per filterable field of the model."""
    surface = spec.surface
    params: list[dict[str, Any]] = []
    reserved = {
        "search": ("A search term (every word must match a search field).", {"type": "string"}),
        "ordering": (
            "Fields to order by, comma-separated, `-` for descending.",
            {"type": "string"},
        ),
        "o": ("Fields to order by, comma-separated, `-` for descending.", {"type": "string"}),
        "limit": ("Number of results to return per page.", {"type": "integer", "minimum": 1}),
        "offset": (
            "The initial index from which to return the results.",
            {"type": "integer", "minimum": 0},
        ),
        "count_limit": (
            "Limit total instances to be retrieved.",
            {"type": "integer", "minimum": 0},
        ),
        "fields": (
            "Only these top-level fields (comma-separated); `pk` always.",
            {"type": "string"},
        ),
        "pg": ("Page number, from 1.", {"type": "integer", "minimum": 1}),
        "pg_size": ("Page size; 0 returns every row.", {"type": "integer", "minimum": 0}),
        "detail": ("Expand related objects.", {"type": "boolean"}),
        "_all": ("Include deleted objects.", {"type": "boolean"}),
        "format": ("Response format; only `json`.", {"type": "string", "enum": ["json"]}),
    }
    for name in surface.reserved:
        if name in reserved:
            description, schema = reserved[name]
            params.append(_filter_parameter(name, description, schema))
    mapper = sa_inspect(spec.model)
    seen = {param["name"] for param in params}
    # Foreign keys are filtered through their relation (`created_by`, `individual=7`).
    foreign_keys = {column.key for column in mapper.columns if column.foreign_keys}
    for prop in mapper.column_attrs:
        if is_secret(prop) or prop.key in seen or prop.key in foreign_keys:
            continue
        column = prop.columns[0]
        kind = column_kind(column.type)
        schema = dict(_KIND_SCHEMAS.get(kind, {"type": "string"}))
        enum_cls = getattr(base_type(column.type), "enum_class", None)
        if enum_cls is not None:
            schema["enum"] = [member.name for member in enum_cls]
        if kind is Kind.DATETIME:
            description = f"{prop.key.capitalize()} datetime filter (ISO 8601)."
        else:
            description = f"Filter by {prop.key}."
        params.append(_filter_parameter(prop.key, description, schema))
        seen.add(prop.key)
    if "id" in seen:
        params.append(_filter_parameter("pk", "Filter by id.", {"type": "integer"}))
    if "uuid" in seen:
        params.append(_filter_parameter("uupk", "Filter by uuid.", {"type": "string"}))
    for prop in mapper.relationships:
        if is_secret(prop) or prop.key in seen:
            continue
        target = spec.aliases.get(prop.key, f"{prop.key}__pk")
        params.append(_filter_parameter(prop.key, f"Filter by {target}.", {"type": "string"}))
    for name, description in spec.extra_filters.items():
        params.append(_filter_parameter(name, description, {"type": "string"}))
    return params


def describe_filters(spec: "ResourceSpec") -> str:
    """The list operation's description: the query language in brief."""
    aliases = ", ".join(f"`{k}` means `{v}`" for k, v in sorted(spec.aliases.items()))
    search = ", ".join(f"`{name}`" for name in spec.search) or "none"
    return (
        f"List {spec.name}. Any other query parameter is a filter: "
        "`<field>[__<related field>…][__<transform>][__<operator>][!]=<value>`.\n\n"
        f"Operators: {', '.join(OPERATORS)}. Datetime transforms: {', '.join(TRANSFORMS)}. "
        "A trailing `!` negates (`name!=x`, `id__in!=1,2`); `[a,b]__icontains=x` ORs lookups; "
        "a bare key is a flag meaning true (`?tags__isnull`). Related paths cross relations "
        "(`tags__name=x`); JSON fields take keys (`custom_fields__key__icontains=x`).\n\n"
        f"Shorthands: `pk` means `id`, `uupk` means `uuid`{', ' + aliases if aliases else ''}. "
        f"Search fields: {search}. Unknown fields, operators or values are a 400."
    )


def request_body(schema: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body that the handler parses itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}
            },
        }
    }
