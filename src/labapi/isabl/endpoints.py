"""The Isabl endpoints that are not a resource's generated routes: `analyses/bulk_update`,
`individuals/tree[/<id>]`, `system_id/<system_id>`, `send_email` and `warmup`.

`ROUTER` must be included before the generated routers: its paths would otherwise be read
as `<resource>/<id>` (`individuals/tree` as the individual "tree").
"""

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select, text

from labapi.api.bodies import read_body
from labapi.api.factory import Renderer, add_route, limit_offset_list
from labapi.api.openapi import describe_filters, list_parameters, problem_responses, request_body
from labapi.api.responses import ORJSONResponse
from labapi.auth.deps import get_current_user, require_permission
from labapi.auth.models import OutboxMessage, User
from labapi.auth.permissions import permission_label
from labapi.core.db import SessionDep
from labapi.core.errors import ErrorItem, NotFound, ValidationFailed
from labapi.core.mail import send_mail
from labapi.core.services import NOT_FOUND
from labapi.isabl import services
from labapi.isabl.models import Aliquot, Analysis, AnalysisStatus, Experiment, Individual, Sample
from labapi.isabl.schemas import AnalysesBulkUpdate, EmailIn, IndividualTree
from labapi.isabl.specs import INDIVIDUALS

PREFIX = "/api/v1"
router = APIRouter()
Authenticated = [Depends(get_current_user)]
MayChangeAnalyses = Annotated[
    User, Depends(require_permission(permission_label(Analysis, "change")))
]
MaySendEmail = Annotated[User, Depends(require_permission(permission_label(OutboxMessage, "add")))]

tree_renderer = Renderer(IndividualTree)
ident_param = Path(description="A primary key, or any identifier of the individual.")


# ------------------------------------------------------------ analyses/bulk_update
async def analyses_bulk_update(
    request: Request, session: SessionDep, user: MayChangeAnalyses
) -> Response:
    """Efficiently set the status (STAGED or SUBMITTED) and `ran_by` of many analyses."""
    body = await read_body(request, AnalysesBulkUpdate)
    count = await services.bulk_update_status(
        session=session, ids=body.ids, status=AnalysisStatus(body.status), ran_by=body.ran_by
    )
    return ORJSONResponse({**body.model_dump(mode="json"), "count": count})


add_route(
    router,
    f"{PREFIX}/analyses/bulk_update",
    analyses_bulk_update,
    ["PATCH"],
    operation_id="analyses_bulk_update",
    summary="Bulk update analyses' status",
    description="If status is SUBMITTED, the time fields are reset (one UPDATE statement).",
    tags=["analyses"],
    dependencies=Authenticated,
    responses=problem_responses("partial_update"),
    openapi_extra=request_body(AnalysesBulkUpdate),
)


# ------------------------------------------------------------------ individuals/tree
async def individuals_tree_list(request: Request, session: SessionDep) -> Response:
    """List individuals, each with its samples and their experiments."""
    return await limit_offset_list(
        request, session, INDIVIDUALS, tree_renderer, services.individual_tree_service.options()
    )


async def individuals_tree_read(
    request: Request,
    session: SessionDep,
    id: str = ident_param,  # noqa: A002
) -> Response:
    """Retrieve an individual with its samples and their experiments."""
    obj = await services.individual_tree_service.get(session=session, ident=id)
    return ORJSONResponse(tree_renderer.render([obj])[0])


add_route(
    router,
    f"{PREFIX}/individuals/tree",
    individuals_tree_list,
    ["GET"],
    operation_id="individuals_tree_list",
    summary="List individual trees",
    description=describe_filters(INDIVIDUALS),
    tags=["individuals"],
    dependencies=Authenticated,
    responses=problem_responses("list"),
    openapi_extra={"parameters": list_parameters(INDIVIDUALS)},
)
add_route(
    router,
    f"{PREFIX}/individuals/tree/{{id}}",
    individuals_tree_read,
    ["GET"],
    operation_id="individuals_tree_read",
    summary="Retrieve individual tree",
    tags=["individuals"],
    dependencies=Authenticated,
    responses=problem_responses("read"),
)

# ------------------------------------------------------------------------ system_id
# The objects with a system id, and the resource whose detail shows them.
SYSTEM_ID_RESOURCES: tuple[tuple[type[Any], str], ...] = (
    (Experiment, "experiments"),
    (Sample, "samples"),
    (Individual, "individuals"),
    (Aliquot, "aliquots"),
)


async def system_id_read(
    request: Request,
    session: SessionDep,
    system_id: str = Path(description="A system id (`ISB_H000001_T01`)."),
) -> Response:
    """Redirect to the detail of the experiment, sample, individual or aliquot with this
    system id."""
    if "\x00" not in system_id:
        for model, name in SYSTEM_ID_RESOURCES:
            pk = await session.scalar(select(model.id).where(model.system_id == system_id))
            if pk is not None:
                location = request.url.replace(path=f"{PREFIX}/{name}/{pk}", query="")
                return RedirectResponse(str(location), status_code=302)
    raise NotFound(NOT_FOUND.format(ident=system_id, model="object with a system id"))


add_route(
    router,
    f"{PREFIX}/system_id/{{system_id}}",
    system_id_read,
    ["GET"],
    operation_id="system_id_read",
    summary="Redirect to an object by system id",
    tags=["system_id"],
    dependencies=Authenticated,
    responses={
        302: {"description": "The object's detail URL, in `Location`"},
        **problem_responses("read"),
    },
    response_class=RedirectResponse,
)

# ------------------------------------------------------------------------ send_email
# HTML versions of a message, by `html_template`.
HTML_TEMPLATES = {
    "default": "<html><body><h3>{subject}</h3><p>{content}</p></body></html>",
    "error": "<html><body><h3>{subject}</h3><pre>{content}</pre></body></html>",
}


async def send_email(request: Request, session: SessionDep, user: MaySendEmail) -> Response:
    """Send an e-mail (form: `recipients` repeated, `subject`, `content`, optional
    `html_template`): through SMTP when configured, kept in the outbox either way."""
    body = await read_body(request, EmailIn)
    html_body = None
    if body.html_template is not None:
        template = HTML_TEMPLATES.get(body.html_template)
        if template is None:
            msg = f"unknown template; valid: {', '.join(sorted(HTML_TEMPLATES))}"
            raise ValidationFailed(msg, [ErrorItem(("body", "html_template"), msg, "enum")])
        html_body = template.format(
            subject=html.escape(body.subject), content=html.escape(body.content)
        )
    message = await send_mail(
        session=session,
        settings=request.app.state.settings,
        recipients=body.recipients,
        subject=body.subject,
        body=body.content,
        html=html_body,
    )
    return ORJSONResponse(
        {
            "pk": message.id,
            "recipients": message.recipients,
            "subject": message.subject,
            "sent": message.sent is not None,
        }
    )


add_route(
    router,
    f"{PREFIX}/send_email",
    send_email,
    ["POST"],
    operation_id="send_email_create",
    summary="Send an e-mail",
    tags=["send_email"],
    dependencies=Authenticated,
    responses=problem_responses("create"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: request_body(EmailIn)["requestBody"]["content"]["application/json"]
                for media in ("application/x-www-form-urlencoded", "application/json")
            },
        }
    },
)


# --------------------------------------------------------------------------- warmup
async def warmup(session: SessionDep) -> Response:
    """Open a database connection and answer (for load balancers warming instances)."""
    await session.execute(text("SELECT 1"))
    return ORJSONResponse({"status": "warm"})


add_route(
    router, f"{PREFIX}/warmup", warmup, ["GET"], operation_id="warmup_list", summary="Warm up"
)

BODIES = (AnalysesBulkUpdate, EmailIn)
