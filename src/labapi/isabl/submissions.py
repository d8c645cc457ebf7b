"""Submission routes the factory does not generate (SPEC §5): create and update taking the
form as the multipart file `submission_form`, the template download and processing.

List, read and delete are generated from `isabl.specs.SUBMISSIONS`. This router is
included before the generated ones, so `submissions/download` wins over
`submissions/{id}`.
"""

import re
import shutil
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from labapi.api.bodies import read_body, validate_payload
from labapi.api.factory import Renderer, _partial, add_route
from labapi.api.openapi import problem_responses
from labapi.api.responses import ORJSONResponse
from labapi.auth.deps import get_current_user, require_permission
from labapi.auth.models import User
from labapi.core.db import SessionDep
from labapi.core.errors import (
    Conflict,
    ErrorItem,
    PayloadTooLarge,
    PermissionDenied,
    ValidationFailed,
)
from labapi.core.settings import Settings
from labapi.importers import submission as importer
from labapi.importers.excel import WorkbookError, check_workbook
from labapi.isabl import schemas as s
from labapi.isabl.models import Submission
from labapi.isabl.services import submission_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_FIELD = "submission_form"
# Multipart fields that carry lists: repeated, or comma separated in one value.
LIST_FIELDS = ("projects", "tags")
COPY_CHUNK = 1024 * 1024

router = APIRouter(
    prefix="/api/v1/submissions",
    tags=["submissions"],
    dependencies=[Depends(get_current_user)],
)
MayAdd = Annotated[User, Depends(require_permission("isabl.add_submission"))]
MayChange = Annotated[User, Depends(require_permission("isabl.change_submission"))]
renderer = Renderer(s.SubmissionRead)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def load_submission(
    session: SessionDep,
    id: str = PathParam(description="A primary key of a submission."),  # noqa: A002
) -> Any:
    """The submission of the path (404 first, before any body is read)."""
    return await submission_service.get(session=session, ident=id)


Loaded = Depends(load_submission)


def _form_error(msg: str, kind: str = "value_error") -> ValidationFailed:
    return ValidationFailed(msg, [ErrorItem(("body", FORM_FIELD), msg, kind)])


async def read_submission_body(
    request: Request, schema: type[BaseModel]
) -> tuple[BaseModel, UploadFile | None]:
    """A JSON body, or a multipart one with the form as the file `submission_form`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_body(request, schema), None
    form = await request.form(max_files=1, max_fields=100)
    try:
        return _form_body(form, schema)
    except BaseException:
        await form.close()
        raise


def _form_body(form: Any, schema: type[BaseModel]) -> tuple[BaseModel, UploadFile | None]:
    upload = form.get(FORM_FIELD)
    if upload is not None and not isinstance(upload, UploadFile):
        raise _form_error(f"'{FORM_FIELD}' must be a file (multipart upload)", "file_expected")
    payload: dict[str, Any] = {}
    for key in form:
        if key == FORM_FIELD:
            continue
        values = [str(value) for value in form.getlist(key)]
        if key in LIST_FIELDS:
            payload[key] = [part.strip() for value in values for part in value.split(",")]
            payload[key] = [part for part in payload[key] if part]
        else:
            payload[key] = values[-1]
    return validate_payload(payload, schema), upload


def _safe_name(filename: str | None) -> str:
    """A file name that is safe on any file system: its last path part, plain characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[^\w.-]+", "_", name, flags=re.ASCII).strip("._") or "submission_form"
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 10:
        return f"{stem[:90]}.{suffix}"
    return name[:100]


def _copy_bounded(source: Any, target: Path, limit: int) -> None:
    """Copy an upload to disk, refusing it once it passes `limit` bytes."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(COPY_CHUNK):
            written += len(chunk)
            if written > limit:
                raise PayloadTooLarge(f"the submission form is larger than {limit} bytes")
            out.write(chunk)
    if written == 0:
        raise _form_error("the submission form is an empty file", "file_empty")


async def save_upload(settings: Settings, upload: UploadFile) -> tuple[str, str]:
    """Keep an uploaded form under the media root: (its path there, its file name). A file
    that is too large (413) or no readable .xlsx (400) is refused and not kept; nothing is
    written to the database before the file has passed."""
    limit = settings.submission_max_bytes
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"the submission form is larger than {limit} bytes")
    name = _safe_name(upload.filename)
    relative = Path("submissions") / uuid4().hex / name
    target = Path(settings.media_root) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        await upload.seek(0)
        await run_in_threadpool(_copy_bounded, upload.file, target, limit)
        await run_in_threadpool(check_workbook, target)
    except WorkbookError as exc:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise _form_error(f"'{upload.filename}' is {exc}", "file_invalid") from None
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    return relative.as_posix(), (upload.filename or name)[:255]


async def _save(request: Request, upload: UploadFile | None) -> tuple[str, str] | None:
    """Save the upload, if any, and close its temporary file (a form read by hand is not
    closed by the framework)."""
    if upload is None:
        return None
    try:
        return await save_upload(_settings(request), upload)
    finally:
        await upload.close()


async def attach(session: Any, obj: Submission, stored: tuple[str, str] | None) -> Submission:
    """Point the submission to its stored form; the submission as rendered."""
    if stored is not None:
        obj.submission_form, obj.submission_form_name = stored
        await session.flush()
    return await submission_service.reload(session=session, obj=obj)


def form_path(settings: Settings, obj: Submission) -> Path:
    """Where the submission's form is stored."""
    if not obj.submission_form:
        raise _form_error("this submission has no submission_form to process", "file_missing")
    path = Path(settings.media_root) / obj.submission_form
    if not path.is_file():
        raise _form_error("the stored submission_form is missing; upload it again", "file_missing")
    return path


def _render(request: Request, obj: Any, status: int = 200) -> Response:
    return ORJSONResponse(renderer.render([obj])[0], status_code=status)


async def create_submission(request: Request, session: SessionDep, user: MayAdd) -> Response:
    """Create a submission; the form may come along as the multipart file `submission_form`."""
    body, upload = await read_submission_body(request, s.SubmissionCreate)
    claimed = getattr(body, "created_by", None)
    if claimed and claimed != user.username and not user.is_superuser:
        raise PermissionDenied("Only a superuser may create objects on behalf of others.")
    stored = await _save(request, upload)
    obj, created = await submission_service.get_or_create(
        session=session, data=body, created_by=user
    )
    obj = await attach(session, obj, stored)
    return _render(request, obj, 201 if created else 200)


def make_update(schema: type[BaseModel]) -> Any:
    """The PUT or PATCH handler for `schema`."""

    async def update_submission(
        request: Request, session: SessionDep, user: MayChange, obj: Any = Loaded
    ) -> Response:
        body, upload = await read_submission_body(request, schema)
        data = {
            name: value
            for name, value in body.model_dump(exclude_unset=True).items()
            if name in schema.model_fields
        }
        if upload is not None and obj.processed is not None:
            await upload.close()
            raise Conflict("this submission was committed; upload the new form as a new one")
        stored = await _save(request, upload)
        obj = await submission_service.update(session=session, obj=obj, data=data, actor=user)
        obj = await attach(session, obj, stored)
        return _render(request, obj)

    return update_submission


async def download_template(request: Request, session: SessionDep) -> Response:
    """Download submission_form excel template."""
    content = await importer.template_workbook(session=session)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="submission_form.xlsx"'},
    )


async def process_submission(
    request: Request, session: SessionDep, user: MayChange, obj: Any = Loaded
) -> Response:
    """Create objects using `submission_form` excel file; the report is in `data`."""
    body = await read_body(request, s.SubmissionProcess)
    settings = _settings(request)
    await importer.process(
        session=session,
        submission=obj,
        path=form_path(settings, obj),
        commit=bool(getattr(body, "commit", False)),
        user=user,
        settings=settings,
    )
    obj = await submission_service.reload(session=session, obj=obj)
    return _render(request, obj)


def _bodies(schema: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra`: a JSON body, or the same fields as multipart with the form file."""
    ref = {"$ref": f"#/components/schemas/{schema.__name__}"}
    multipart = {
        "allOf": [
            ref,
            {
                "type": "object",
                "properties": {
                    FORM_FIELD: {"type": "string", "format": "binary"},
                    "projects": {"type": "array", "items": {"type": "integer"}},
                },
            },
        ]
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ref},
                "multipart/form-data": {"schema": multipart},
            },
        }
    }


READ = s.SubmissionRead
add_route(
    router,
    "/download",
    download_template,
    ["GET"],
    operation_id="submissions_download_list",
    summary="Download the submission form template",
    responses={
        200: {"content": {XLSX: {}}, "description": "The template"},
        **problem_responses("list"),
    },
    response_class=Response,
)
add_route(
    router,
    "/process/{id}",
    process_submission,
    ["POST"],
    operation_id="submissions_process_create",
    summary="Validate (commit false) or commit (commit true) a submission",
    response_model=READ,
    responses=problem_responses("partial_update"),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": s.SubmissionProcess.model_json_schema()}},
        }
    },
)
add_route(
    router,
    "",
    create_submission,
    ["POST"],
    operation_id="submissions_create",
    summary="Create a submission (upload its form)",
    status_code=201,
    response_model=READ,
    responses=problem_responses("create"),
    openapi_extra=_bodies(s.SubmissionCreate),
)
for _method, _action, _schema in (
    ("PUT", "update", s.SubmissionUpdate),
    ("PATCH", "partial_update", _partial(s.SubmissionUpdate)),
):
    _endpoint = make_update(_schema)
    _endpoint.__doc__ = f"{'Update' if _method == 'PUT' else 'Partially update'} a submission."
    add_route(
        router,
        "/{id}",
        _endpoint,
        [_method],
        operation_id=f"submissions_{_action}",
        summary=f"{'Update' if _method == 'PUT' else 'Partially update'} a submission",
        response_model=READ,
        responses=problem_responses(_action),
        openapi_extra=_bodies(_schema),
    )

ROUTERS = (router,)
