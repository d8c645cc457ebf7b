"""The resource registry's machine: a `ResourceSpec` becomes an `APIRouter`.

Each spec yields list / create (get-or-create) / read / update / partial_update / delete,
as DRF's router maps `{"get": "list", "post": "create"}`; every path answers with and
without its trailing slash (never by redirect); operation ids are the reference's
(`centers_list`, `centers_partial_update`, …). Handlers stay thin: parse the query, call
the service, render, wrap the envelope.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette._utils import get_route_path
from starlette.responses import StreamingResponse
from starlette.routing import Match
from starlette.types import Scope

from labapi.api.bodies import read_body
from labapi.api.openapi import (
    describe_filters,
    list_parameters,
    problem_responses,
    request_body,
)
from labapi.api.projection import Projection, compile_projection
from labapi.api.responses import ORJSONResponse
from labapi.api.rows import Rows
from labapi.auth.deps import get_current_user, require_permission
from labapi.auth.models import User
from labapi.auth.permissions import ACTION_PERMISSIONS, has_permission, permission_label
from labapi.core.db import SessionDep
from labapi.core.errors import (
    ErrorItem,
    NotFound,
    PermissionDenied,
    QueryError,
    ValidationFailed,
)
from labapi.core.services import NOT_FOUND, ModelService
from labapi.query import (
    Condition,
    Meta,
    apply_ordering,
    apply_window,
    compile_filters,
    compile_search,
    count_rows,
    limit_offset_envelope,
    limit_offset_window,
    meta_envelope,
    page_window,
    parse_params,
    split_query_string,
)

ACTIONS = ("list", "create", "read", "update", "partial_update", "delete")
# The facility adds `describe/`: the fields of create and update, and the permissions.
FACILITY_ACTIONS = (*ACTIONS, "describe")
READ_ONLY_ACTIONS = ("list", "read", "describe")


@dataclass(frozen=True)
class Surface:
    """What the resources of one API share: prefix, query dialect, envelope."""

    name: str
    prefix: str
    envelope: Literal["limit_offset", "meta"]
    reserved: tuple[str, ...]
    ordering_param: str
    page_size_setting: str
    page_size_max_setting: str
    # The column DELETE clears (soft delete): such rows are hidden from lists and
    # `total_count` unless `_all` is given. None: DELETE deletes.
    soft_delete: str | None = None


ISABL = Surface(
    name="isabl",
    prefix="/api/v1",
    envelope="limit_offset",
    reserved=(
        "limit",
        "offset",
        "ordering",
        "search",
        "count_limit",
        "fields",
        "format",
        "distinct",
    ),
    ordering_param="ordering",
    page_size_setting="page_size_default",
    page_size_max_setting="page_size_max",
)
FACILITY = Surface(
    name="facility",
    prefix="/api",
    envelope="meta",
    reserved=("pg", "pg_size", "o", "detail", "_all", "search", "format"),
    ordering_param="o",
    page_size_setting="facility_page_size_default",
    page_size_max_setting="facility_page_size_max",
    soft_delete="active",
)


@dataclass(frozen=True)
class ResourceSpec:
    """Everything about one resource, declared once; the routes are generated from it."""

    name: str
    model: type[Any]
    read: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    service: ModelService
    surface: Surface = ISABL
    title: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    search: tuple[str, ...] = ()
    default_ordering: tuple[str, ...] = ("pk",)
    actions: tuple[str, ...] = ACTIONS
    # Filter parameters documented in OpenAPI besides the model's own columns.
    extra_filters: dict[str, str] = field(default_factory=dict)
    # The representation asked for with `detail` (nested objects, M:N lists).
    detail: type[BaseModel] | None = None
    # Column values that select this resource's rows of a shared model (the action
    # log's `input_count` is `Input` with type "count"): listed, read and created so.
    fixed: dict[str, Any] = field(default_factory=dict)
    # Actions of `actions` served by hand-written routes (same paths, operation ids and
    # permissions) that the factory must not generate: submissions' multipart uploads.
    handwritten: tuple[str, ...] = ()
    # Relations whose object, nested in an update body with its pk and more fields, is
    # updated in place (SPEC §5: an experiment's `sample`). Only these: isabl_cli sends
    # whole, possibly stale objects elsewhere (an analysis' `targets`), which only link.
    in_place: tuple[str, ...] = ()

    @property
    def verbose(self) -> str:
        """Singular human name (`center`) for summaries."""
        return self.title or self.model.__name__.lower()


async def update_in_place(
    session: AsyncSession, user: User, service: ModelService, nested: Any, name: str
) -> Any:
    """Update a nested object given with its pk and more fields, as its own PATCH would
    (its change permission, its update rules); what is left names it by pk."""
    if not isinstance(nested, dict) or nested.get("pk") is None or len(nested) == 1:
        return nested
    label = permission_label(service.model, ACTION_PERMISSIONS["partial_update"])
    if not await has_permission(session, user, label):
        raise PermissionDenied(f"You do not have permission to perform this action ({label}).")
    loc = ("body", name)
    obj, _ = await service.get_or_create(session=session, data={"pk": nested["pk"]}, loc=loc)
    change = {key: value for key, value in nested.items() if key != "pk"}
    try:
        await service.update(session=session, obj=obj, data=change, actor=user, touch=False)
    except ValidationFailed as exc:
        # The service names fields from the top of the body: they are the nested object's.
        errors = [ErrorItem((*loc, *item.loc[1:]), item.msg, item.type) for item in exc.errors]
        raise ValidationFailed(exc.detail, errors) from None
    return {"pk": nested["pk"]}


class ResourceRouter(APIRouter):
    """The routes of one resource, all under its prefix: a path outside it is refused
    before any route is tried.

    The app tries its routers in turn, and FastAPI tries each route of a router with
    bookkeeping of its own: ~2 µs a route, ~2 ms to reach the last resources of the
    registry (the facility's) through the hundreds of routes before them. Registry
    routers are included without a prefix of their own (`main.create_app`)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def add_route(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Any],
    methods: list[str],
    *,
    operation_id: str,
    **kw: Any,
) -> None:
    """Serve `path` with and without its trailing slash (never a redirect); only the
    slash-less form is in the OpenAPI document, under `operation_id`."""
    bare = path.rstrip("/")
    response_class = kw.pop("response_class", ORJSONResponse)
    for variant, in_schema in ((bare, True), (bare + "/", False)):
        router.add_api_route(
            variant,
            endpoint,
            methods=methods,
            operation_id=operation_id if in_schema else None,
            include_in_schema=in_schema,
            response_class=response_class,
            **kw,
        )


@cache
def _partial(schema: type[BaseModel]) -> type[BaseModel]:
    """The PATCH body: every field of the PUT body made optional, with its limits and its
    nullability kept (an unsent field is simply not set: `exclude_unset`)."""
    fields: dict[str, Any] = {
        name: (info.annotation, FieldInfo.merge_field_infos(info, default=None))
        for name, info in schema.model_fields.items()
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"Patched{schema.__name__}", __base__=schema, **fields
    )


class Renderer:
    """Turns ORM objects into JSON-ready dicts through the read schema, once per list;
    given the model, also the schema's SQL projection (None where it cannot be exact).

    A schema computed in Python from flat rows (its `__rows__`, `api/rows.py`) renders
    ORM objects through them, and is read by primary keys in place of a projection, on
    every database."""

    def __init__(self, schema: type[BaseModel], model: type[Any] | None = None) -> None:
        self.one = TypeAdapter(schema)
        self.many = TypeAdapter(list[schema])  # type: ignore[valid-type]
        self.schema, self.model = schema, model
        self.rows: Rows | None = getattr(schema, "__rows__", None)

    @cached_property
    def projection(self) -> Projection | None:
        """The schema's SQL projection, compiled on first use (None: not exact, or the
        schema is computed from flat rows)."""
        if self.model is None or self.rows is not None:
            return None
        return compile_projection(self.schema, self.model)

    def projecting(self, request: Request, session: AsyncSession) -> Projection | Rows | None:
        """What renders `request`'s objects from their pks: the rows of a Python
        representation, or the projection on PostgreSQL; None (the ORM objects) when
        `fields` asks for a reduced representation or the settings turn both off."""
        if not request.app.state.settings.sql_json or _fields(request):
            return None
        if self.rows is not None:
            return self.rows
        if self.projection is None or session.get_bind().dialect.name != "postgresql":
            return None
        return self.projection

    def render(self, objs: Sequence[Any], fields: set[str] | None = None) -> list[dict[str, Any]]:
        """Representations of `objs`, reduced to `fields` (and `pk`) when asked."""
        if self.rows is not None:
            data = self.rows.from_objects(objs)
        else:
            data = self.many.dump_python(
                self.many.validate_python(list(objs), from_attributes=True), mode="json"
            )
        if fields:
            keep = fields | {"pk", "id"}
            data = [{k: v for k, v in item.items() if k in keep} for item in data]
        return data


def _flag(reserved: dict[str, list[str | None]], name: str) -> bool:
    """A reserved flag: `?detail`, `?_all`, `?_all=true` are on; `=false`/`=0` off."""
    values = reserved.get(name)
    if not values:
        return False
    value = values[-1]
    return value is None or value.strip().lower() not in ("false", "0", "no", "off")


def base_criteria(spec: ResourceSpec, reserved: dict[str, list[str | None]]) -> list[Any]:
    """The rows a resource lists before any filter: its fixed values, and only the
    active rows of a soft-deleting surface unless `_all`."""
    model = spec.model
    clauses = [getattr(model, name) == value for name, value in spec.fixed.items()]
    column = spec.surface.soft_delete
    if column and hasattr(model, column) and not _flag(reserved, "_all"):
        clauses.append(getattr(model, column).is_(True))
    return clauses


def _fields(request: Request) -> set[str] | None:
    raw = request.query_params.getlist("fields")
    names = {name.strip() for value in raw for name in value.split(",") if name.strip()}
    return names or None


@dataclass(frozen=True)
class ListQuery:
    """A list request, parsed and compiled: filtered (for counting) and ordered."""

    reserved: dict[str, list[str | None]]
    conditions: list[Condition]
    filtered: Select[Any]
    ordered: Select[Any]
    order: str | None
    # Whether filters or a search narrow the rows (else the filtered count is the total).
    narrowed: bool = False


def parse_list_query(spec: ResourceSpec, query_string: str) -> ListQuery:
    """Compile a list request's filters, search and ordering; every bad parameter of
    every kind is reported in one 400."""
    surface, model = spec.surface, spec.model
    reserved, conditions = parse_params(split_query_string(query_string), surface.reserved)
    errors: list[ErrorItem] = []
    clauses: list[Any] = []
    try:
        clauses += compile_filters(model, conditions, spec.aliases)
    except QueryError as exc:
        errors += exc.errors
    search = reserved.get("search")
    if search and search[-1]:
        try:
            clauses += compile_search(model, search[-1], spec.search)
        except QueryError as exc:
            errors += exc.errors
    filtered = select(model).where(*base_criteria(spec, reserved), *clauses)
    order_values = reserved.get(surface.ordering_param)
    order = order_values[-1] if order_values else None
    try:
        ordered = apply_ordering(
            filtered,
            model,
            order,
            param=surface.ordering_param,
            default=spec.default_ordering,
            aliases=spec.aliases,
        )
    except QueryError as exc:
        errors += exc.errors
    if errors:
        raise QueryError(errors)
    return ListQuery(reserved, conditions, filtered, ordered, order, narrowed=bool(clauses))


def pks_of(spec: ResourceSpec, stmt: Select[Any]) -> Select[Any]:
    """`stmt` selecting only its rows' primary keys (its filters, order and window kept)."""
    return stmt.with_only_columns(spec.model.__mapper__.primary_key[0], maintain_column_froms=True)


async def render_page(
    request: Request,
    session: AsyncSession,
    spec: ResourceSpec,
    renderer: "Renderer",
    page: Select[Any],
    options: Sequence[Any],
) -> Any:
    """The representations of a page's objects: the page's pks then one projection
    statement (PostgreSQL), or the ORM objects loaded with `options` and rendered."""
    projection = renderer.projecting(request, session)
    if projection is not None:
        pks = (await session.scalars(pks_of(spec, page))).all()
        return await projection.render(session, pks)
    rows = (await session.scalars(page.options(*options))).all()
    return renderer.render(rows, _fields(request))


async def limit_offset_list(
    request: Request,
    session: AsyncSession,
    spec: ResourceSpec,
    renderer: "Renderer",
    options: Sequence[Any],
) -> Response:
    """One `{count, next, previous, results}` page of a resource's list request, its
    objects loaded with `options` and rendered by `renderer` (extra endpoints such as
    `individuals/tree` list this way too)."""
    surface = spec.surface
    query = parse_list_query(spec, request.url.query)
    settings = request.app.state.settings
    window = limit_offset_window(
        query.reserved,
        default=getattr(settings, surface.page_size_setting),
        maximum=getattr(settings, surface.page_size_max_setting),
    )
    count = await count_rows(session, query.filtered, cap=window.count_limit)
    page = apply_window(query.ordered, window)
    return ORJSONResponse(
        limit_offset_envelope(
            await render_page(request, session, spec, renderer, page, options),
            count=count,
            window=window,
            base_url=str(request.url.replace(query="")),
            query=request.url.query,
        )
    )


STREAM_BATCH = 500


async def _stream_batches(
    request: Request,
    session: AsyncSession,
    spec: ResourceSpec,
    renderer: "Renderer",
    stmt: Select[Any],
    options: Sequence[Any],
) -> AsyncIterator[Any]:
    """The representations of `stmt`'s rows, a batch (a JSON array) at a time, rendered
    as `render_page` renders a page: the pks streamed then rendered, or the ORM objects."""
    projection = renderer.projecting(request, session)
    if projection is not None:
        pks = pks_of(spec, stmt).execution_options(yield_per=STREAM_BATCH)
        result = await session.stream_scalars(pks)
        async for batch in result.partitions(STREAM_BATCH):
            yield await projection.render(session, batch)
        return
    objects = stmt.options(*options).execution_options(yield_per=STREAM_BATCH)
    result = await session.stream_scalars(objects)
    async for batch in result.partitions(STREAM_BATCH):
        yield renderer.render(batch)


async def stream_meta_envelope(batches: AsyncIterator[Any], meta: Meta) -> AsyncIterator[bytes]:
    """`pg_size=0`: every row, rendered and sent in batches so memory stays flat."""
    yield b'{"data":['
    first = True
    async for batch in batches:
        # The items of a JSON array, comma-separated: the array without its brackets.
        items = orjson.dumps(batch)[1:-1]
        if items:
            yield (b"" if first else b",") + items
            first = False
    envelope = meta_envelope([], meta)
    yield (
        b'],"meta":'
        + orjson.dumps(envelope["meta"])
        + b',"warnings":'
        + orjson.dumps(envelope["warnings"])
        + b"}"
    )


def build_router(spec: ResourceSpec) -> APIRouter:
    """Generate the routes of one resource."""
    surface, service, model = spec.surface, spec.service, spec.model
    renderer = Renderer(spec.read, model)
    detail_renderer = Renderer(spec.detail, model) if spec.detail is not None else renderer
    generated = [action for action in spec.actions if action not in spec.handwritten]
    # Every route needs an authenticated user (401 first), writes a model permission
    # (403 next), and only then is the object looked up (404).
    router = ResourceRouter(
        prefix=f"{surface.prefix}/{spec.name}",
        tags=[spec.name],
        dependencies=[Depends(get_current_user)],
    )

    def allowed(action: str) -> Any:
        label = permission_label(model, ACTION_PERMISSIONS[action])
        return Annotated[User, Depends(require_permission(label))]

    MayAdd, MayDelete = allowed("create"), allowed("delete")

    patch_schema = _partial(spec.update)
    ident_param = Path(description="A primary key, or any identifier of the object.")

    async def load_object(session: SessionDep, id: str = ident_param) -> Any:  # noqa: A002
        obj = await service.get(session=session, ident=id)
        if any(getattr(obj, name) != value for name, value in spec.fixed.items()):
            raise NotFound(NOT_FOUND.format(ident=id, model=spec.name))
        return obj

    Loaded = Depends(load_object)

    def add(path: str, endpoint: Callable[..., Any], method: str, action: str, **kw: Any) -> None:
        add_route(
            router,
            path,
            endpoint,
            [method],
            operation_id=f"{spec.name}_{action}",
            responses={**problem_responses(action), **kw.pop("extra_responses", {})},
            **kw,
        )

    async def list_objects(request: Request, session: SessionDep) -> Response:
        if surface.envelope == "limit_offset":
            return await limit_offset_list(request, session, spec, renderer, service.options())
        query = parse_list_query(spec, request.url.query)
        settings = request.app.state.settings
        default = getattr(settings, surface.page_size_setting)
        maximum = getattr(settings, surface.page_size_max_setting)
        window = page_window(query.reserved, default=default, maximum=maximum)
        count = await count_rows(session, query.filtered, cap=window.count_limit)
        detail = spec.detail is not None and _flag(query.reserved, "detail")
        page = apply_window(query.ordered, window)
        options = service.options(detail=detail)
        rendering = detail_renderer if detail else renderer
        total: int | None = count
        if query.narrowed or window.count_limit is not None:
            total = await session.scalar(
                select(func.count()).select_from(model).where(*base_criteria(spec, query.reserved))
            )
        meta = Meta(query.conditions, query.order, count, int(total or 0), window)
        if window.limit is None:
            batches = _stream_batches(request, session, spec, rendering, page, options)
            return StreamingResponse(
                stream_meta_envelope(batches, meta), media_type="application/json"
            )
        data = await render_page(request, session, spec, rendering, page, options)
        return ORJSONResponse(meta_envelope(data, meta))

    list_objects.__doc__ = f"List {spec.name}."
    add(
        "",
        list_objects,
        "GET",
        "list",
        summary=f"List {spec.name}",
        description=describe_filters(spec),
        openapi_extra={"parameters": list_parameters(spec)},
        response_model=None,
    )

    def make_create(schema: type[BaseModel]) -> Callable[..., Any]:
        # The body is parsed after authentication and the permission check: a caller
        # without credentials learns nothing from a 400 about the body.
        async def create_object(
            request: Request,
            session: SessionDep,
            user: MayAdd,  # type: ignore[valid-type]
        ) -> Response:
            body = await read_body(request, schema)
            claimed = getattr(body, "created_by", None)
            if claimed and claimed != user.username and not user.is_superuser:
                raise PermissionDenied("Only a superuser may create objects on behalf of others.")
            data: Any = body
            if spec.fixed:
                data = {**body.model_dump(exclude_unset=True), **spec.fixed}
            obj, created = await service.get_or_create(session=session, data=data, created_by=user)
            return ORJSONResponse(
                renderer.render([obj], _fields(request))[0], status_code=201 if created else 200
            )

        return create_object

    create_object = make_create(spec.create)
    create_object.__doc__ = (
        "Get or create objects. Existing objects are retrieved using either the pk field or "
        "unique together constraints; nested objects are retrieved or created the same way. "
        "An existing object is returned unchanged (200); a new one is created (201)."
    )
    if "create" in generated:
        add(
            "",
            create_object,
            "POST",
            "create",
            summary=f"Get or create {spec.verbose}",
            status_code=201,
            response_model=spec.read,
            openapi_extra=request_body(spec.create),
            extra_responses={200: {"model": spec.read, "description": "Found, unchanged"}},
        )

    if "describe" in spec.actions:
        add(
            "/describe",
            make_describe(spec),
            "GET",
            "describe",
            summary=f"Describe {spec.name}",
            response_model=None,
        )

    async def read_object(
        request: Request,
        session: SessionDep,
        id: str = ident_param,  # noqa: A002
    ) -> Response:
        asked: list[str | None] = list(request.query_params.getlist("detail"))
        detail = spec.detail is not None and _flag({"detail": asked}, "detail")
        rendering = detail_renderer if detail else renderer
        projection = rendering.projecting(request, session)
        if projection is not None:
            columns, value = service.ident_lookup(id)
            found = await projection.find(session, columns, value, spec.fixed)
            if len(found) != 1:
                raise NotFound(NOT_FOUND.format(ident=id, model=model.__name__))
            return ORJSONResponse(found[0])
        obj = await load_object(session, id)
        if detail:
            obj = await service.reload(session=session, obj=obj, detail=True)
            return ORJSONResponse(detail_renderer.render([obj])[0])
        return ORJSONResponse(renderer.render([obj], _fields(request))[0])

    read_object.__doc__ = f"Retrieve a {spec.verbose} by pk or identifier."
    add(
        "/{id}",
        read_object,
        "GET",
        "read",
        summary=f"Retrieve {spec.verbose}",
        response_model=spec.read,
    )

    def make_update(schema: type[BaseModel], action: str) -> Callable[..., Any]:
        # The body is parsed here, after the object was found: an unknown id is a 404
        # whatever the body (SPEC §4).
        MayChange = allowed(action)

        async def update_object(
            request: Request,
            session: SessionDep,
            user: MayChange,  # type: ignore[valid-type]
            obj: Any = Loaded,
        ) -> Response:
            body = await read_body(request, schema)
            # Declared fields only: an undeclared key (`is_superuser`, `password`) is never
            # written; create-only keys are kept so that changing them is refused.
            data = {
                name: value
                for name, value in body.model_dump(exclude_unset=True).items()
                if name in schema.model_fields or name in service.create_only
            }
            for name in spec.in_place:
                if name in data:
                    related = service.relations[name]
                    data[name] = await update_in_place(session, user, related, data[name], name)
            obj = await service.update(session=session, obj=obj, data=data, actor=user)
            return ORJSONResponse(renderer.render([obj], _fields(request))[0])

        return update_object

    for method, action, schema in (
        ("PUT", "update", spec.update),
        ("PATCH", "partial_update", patch_schema),
    ):
        if action in generated:
            endpoint = make_update(schema, action)
            endpoint.__doc__ = (
                f"{'Update' if method == 'PUT' else 'Partially update'} a {spec.verbose}."
            )
            add(
                "/{id}",
                endpoint,
                method,
                action,
                summary=f"{'Update' if method == 'PUT' else 'Partially update'} {spec.verbose}",
                response_model=spec.read,
                openapi_extra=request_body(schema),
            )

    async def delete_object(
        session: SessionDep,
        user: MayDelete,  # type: ignore[valid-type]
        obj: Any = Loaded,
    ) -> Response:
        await service.delete(session=session, obj=obj, actor=user)
        return Response(status_code=204)

    delete_object.__doc__ = f"Delete a {spec.verbose}; 409 while others still reference it."
    if "delete" in generated:
        add(
            "/{id}",
            delete_object,
            "DELETE",
            "delete",
            summary=f"Delete {spec.verbose}",
            status_code=204,
            response_model=None,
        )
    return router


def describe_schema(schema: type[BaseModel]) -> dict[str, list[str]]:
    """The required and optional fields of a body."""
    fields = schema.model_fields
    return {
        "required": [name for name, info in fields.items() if info.is_required()],
        "optional": [name for name, info in fields.items() if not info.is_required()],
    }


def make_describe(spec: ResourceSpec) -> Callable[..., Any]:
    """The `describe/` endpoint of a resource: what each action takes and needs."""
    permissions: dict[str, str | None] = {
        action: (
            permission_label(spec.model, ACTION_PERMISSIONS[action])
            if action in ACTION_PERMISSIONS
            else None
        )
        for action in spec.actions
    }
    body: dict[str, Any] = {
        "class": spec.name,
        "title": spec.verbose,
        "actions": list(spec.actions),
        "permissions": permissions,
        "fields": {
            "read": list(spec.read.model_fields),
            "detail": list((spec.detail or spec.read).model_fields),
        },
    }
    if "create" in spec.actions:
        body["create"] = describe_schema(spec.create)
    if "partial_update" in spec.actions:
        body["update"] = describe_schema(_partial(spec.update))

    async def describe() -> Response:
        return ORJSONResponse(body)

    describe.__doc__ = f"Describe {spec.name}: the fields of create and update, and permissions."
    return describe


def build_routers(registry: Sequence[ResourceSpec]) -> list[APIRouter]:
    """One router per declared resource."""
    return [build_router(spec) for spec in registry]


def body_schemas(registry: Sequence[ResourceSpec]) -> list[type[BaseModel]]:
    """Bodies that handlers parse themselves, for the OpenAPI components."""
    return [
        schema for spec in registry for schema in (spec.create, spec.update, _partial(spec.update))
    ]
