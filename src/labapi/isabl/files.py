"""Result and reference files of the Isabl surface: download, raw, stream, IGV pages, the
slide viewer. The file machinery itself (paths, roots, ranges, lines) is `core.storage`.

Routes, each with and without its trailing slash, included before the generated
`<resource>/<id>` routes so that they win over them:

- `assemblies/stream/<id>?reference=&bytes=&index=`: a file of the assembly's
  `reference_data`;
- `experiments/stream/<id>?assembly=&bytes=&index=`: the BAM of the experiment's
  `bam_files` for an assembly (not in the reference API: the IGV page reads through it);
- `experiments/igv/<system_id>?locus=&assembly=`: an IGV page on that BAM;
- `slideviewer/<image_ids>`: a redirect to the configured slide viewer;
- `analyses/download|raw|stream|igv/<id>`: files of an analysis' `results`
  (`add_analysis_routes`);
- `/static/igv/igv.min.js`: the vendored igv.js, open to anyone.

Every stream also takes `index=true` (the index file next to the file: `.bai`, `.crai`,
`.fai`, `.tbi`, …) and `token`: a signed link, made by an IGV page for the user who opened
it and for one file, that stands in for the Authorization header a browser's range requests
cannot send. Everything else needs the usual credentials.
"""

import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio
import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from labapi.api.factory import add_route
from labapi.api.openapi import problems
from labapi.auth.deps import CHALLENGE, authenticate, get_current_user
from labapi.auth.models import User
from labapi.core import storage
from labapi.core.db import SessionDep, get_session
from labapi.core.errors import BadRequest, NotAuthenticated, NotFound
from labapi.core.services import ModelService
from labapi.core.settings import Settings, signing_key
from labapi.isabl import services
from labapi.isabl.models import Assembly
from labapi.isabl.services import assembly_service, experiment_service

log = logging.getLogger("labapi.files")

PREFIX = "/api/v1"
IGV_VERSION = "3.8.10"  # with IGV_VERSION in the Makefile (`make vendor-igv`)
IGV_SHA256 = "87b991ae2a720978172e269dd5127c495e56df5af31144dff19c83124e2f5744"
IGV_JS = Path(__file__).parent / "static" / "igv" / "igv.min.js"
IGV_JS_PATH = "/static/igv/igv.min.js"
# igv.js' own genome ids for common assemblies without a local FASTA (the browser then
# loads the genome from igv.js' servers: it needs the internet, labapi does not).
IGV_GENOMES = {"GRCh37": "hg19", "GRCh38": "hg38", "GRCm38": "mm10", "GRCm39": "mm39"}
FASTA_KEYS = ("genome_fasta", "reference_fasta", "fasta", "genome", "reference")
FASTA_SUFFIXES = (".fa", ".fasta", ".fna")

NO_CREDENTIALS = "Authentication credentials were not provided."

router = APIRouter(prefix=PREFIX)
static_router = APIRouter()
# (method, path) of every closed route added here, for the route walk of the tests.
CLOSED_ROUTES: list[tuple[str, str]] = []

Authenticated = [Depends(get_current_user)]
Lines = Annotated[int, Query(ge=0, description="Number of lines to read.")]
Offset = Annotated[int, Query(ge=0, description="Number of lines to start from (0-based).")]
Reverse = Annotated[bool, Query(description="Count lines from the bottom.")]
ByteParam = Annotated[
    str | None, Query(description="Byte range (`0-1023`, `1024-`, `-500`); else `Range`.")
]
IndexParam = Annotated[bool, Query(description="Serve the index file next to the file.")]
TokenParam = Annotated[
    str | None, Query(description="A signed link from an IGV page (instead of credentials).")
]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# What a file route may answer besides 200 (the layers around it add 400/414/503): a
# file outside the roots is a 403, an unknown object, key or file a 404.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = problems(401, 403, 404)
RANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    206: {"description": "The requested byte range (`Content-Range`)"},
    **FILE_RESPONSES,
    **problems(416),
}


def route(path: str, endpoint: Callable[..., Any], operation_id: str, **kw: Any) -> None:
    """Add a closed GET route under /api/v1 (both slash forms)."""
    kw.setdefault("dependencies", Authenticated)
    kw.setdefault("responses", FILE_RESPONSES)
    add_route(
        router,
        path,
        endpoint,
        ["GET"],
        operation_id=operation_id,
        tags=[path.strip("/").split("/")[0]],
        response_class=Response,
        **kw,
    )
    bare = PREFIX + path.rstrip("/")
    CLOSED_ROUTES.extend([("GET", bare), ("GET", bare + "/")])


# ------------------------------------------------------------------ responses
async def open_file(request: Request, raw: str, *, index: bool = False) -> storage.OpenFile:
    """Open a stored path under the configured roots (in a worker thread: NFS may block)."""
    roots = list(_settings(request).storage_roots)
    opener = storage.open_index if index else storage.open_in_roots
    return await anyio.to_thread.run_sync(opener, raw, roots)


def download_response(opened: storage.OpenFile) -> StreamingResponse:
    """The whole file as an attachment, streamed in chunks."""
    headers = storage.file_headers() | {
        "Content-Length": str(opened.size),
        "Content-Disposition": storage.attachment(opened.path),
    }
    return StreamingResponse(
        storage.iter_file(opened), media_type=storage.content_type(opened.path), headers=headers
    )


def stream_response(
    request: Request, opened: storage.OpenFile, byte_param: str | None
) -> StreamingResponse:
    """The file or the byte range asked for: the `bytes` parameter, else `Range`."""
    try:
        if byte_param is not None:
            window = storage.parse_range(byte_param, opened.size, strict=True)
        else:
            window = storage.parse_range(request.headers.get("range"), opened.size)
    except BaseException:
        opened.close()
        raise
    headers = storage.file_headers()
    media = storage.content_type(opened.path)
    if window is None:
        headers["Content-Length"] = str(opened.size)
        return StreamingResponse(storage.iter_file(opened), media_type=media, headers=headers)
    headers["Content-Length"] = str(window.length)
    headers["Content-Range"] = window.content_range(opened.size)
    body = storage.iter_file(opened, window.start, window.length)
    return StreamingResponse(body, status_code=206, media_type=media, headers=headers)


async def raw_response(
    request: Request, opened: storage.OpenFile, *, lines: int, offset: int, reverse: bool
) -> Response:
    """`lines` lines of text from line `offset` (from the end with `reverse`)."""
    max_bytes = _settings(request).raw_max_bytes
    try:
        text = await anyio.to_thread.run_sync(
            lambda: storage.read_lines(
                opened, offset=offset, lines=lines, reverse=reverse, max_bytes=max_bytes
            )
        )
    finally:
        opened.close()
    headers = storage.file_headers()
    headers.pop("Accept-Ranges")
    return Response(text, media_type="text/plain; charset=utf-8", headers=headers)


# ------------------------------------------------------------------ signed links
def link_scope(resource: str, ident: str, key: str) -> tuple[str, str, str]:
    """What a signed link opens: one file (and its index) of one object, as addressed."""
    return (resource, ident, key)


def stream_reader(resource: str, key_param: str) -> Callable[..., Any]:
    """A dependency: the user of the credentials, else of a valid signed link for the
    file the request names; 401 otherwise (before any parameter is checked)."""

    async def reader(
        request: Request, session: Annotated[AsyncSession, Depends(get_session)]
    ) -> User:
        user = await authenticate(request, session)
        if user is None:
            token = request.query_params.get("token")
            ident = str(request.path_params.get("id", ""))
            key = request.query_params.get(key_param, "")
            scope = link_scope(resource, ident, key)
            user_id = (
                storage.check_file_link(signing_key(_settings(request)), scope, token)
                if token
                else None
            )
            user = await session.get(User, user_id) if user_id is not None else None
            if user is None or not user.is_active:
                detail = "Invalid or expired file link." if token else NO_CREDENTIALS
                raise NotAuthenticated(detail, headers=CHALLENGE)
        request.state.user = user
        return user

    return reader


def stream_url(
    request: Request, user: User, resource: str, ident: str, key_param: str, key: str, **extra: str
) -> str:
    """A URL of a stream route carrying a signed link for `user`."""
    settings = _settings(request)
    token = storage.sign_file_link(
        signing_key(settings),
        link_scope(resource, ident, key),
        user.id,
        settings.file_link_ttl_seconds,
    )
    query = urlencode({key_param: key, **extra, "token": token})
    root = request.scope.get("root_path", "")
    return f"{root}{PREFIX}/{resource}/stream/{quote(ident, safe='')}?{query}"


# ------------------------------------------------------------------ IGV
def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no `</script>`, no HTML comment openers)."""
    text = orjson.dumps(value).decode()
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


IGV_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>
body {{ margin: 0; font-family: sans-serif; }}
header {{ padding: 6px 10px; background: #33475b; color: #fff; font-size: 14px; }}
#igv {{ padding: 4px; }}
#igv-error {{ color: #b00; padding: 10px; }}
</style>
</head>
<body data-igv="loading">
<header>{title}</header>
<div id="igv"></div>
<div id="igv-error"></div>
<script type="application/json" id="igv-config">{config}</script>
<script src="{script}"></script>
<script>
(function () {{
  var config = JSON.parse(document.getElementById("igv-config").textContent);
  igv.createBrowser(document.getElementById("igv"), config).then(function (browser) {{
    window.igvBrowser = browser;
    document.body.dataset.igv = "ready";
  }}).catch(function (error) {{
    document.body.dataset.igv = "error";
    document.getElementById("igv-error").textContent = "IGV could not load: " + error;
  }});
}})();
</script>
</body>
</html>
"""


def igv_page(request: Request, title: str, config: dict[str, Any]) -> Response:
    """The HTML page that opens igv.js with `config`."""
    root = request.scope.get("root_path", "")
    body = IGV_PAGE.format(
        title=html.escape(title),
        config=_script_json(config),
        script=html.escape(f"{root}{IGV_JS_PATH}?v={IGV_VERSION}"),
    )
    headers = {
        # The page holds signed links: not cached, not leaked through Referer.
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


def alignment_track(name: str, path: str, url: str, index_url: str) -> dict[str, Any]:
    """An igv.js alignment track (the URLs have no file extension: the format is given)."""
    fmt = "cram" if path.lower().endswith(".cram") else "bam"
    return {"name": name, "type": "alignment", "format": fmt, "url": url, "indexURL": index_url}


def fasta_key(reference_data: Mapping[str, Any] | None) -> str | None:
    """The key of an assembly's (uncompressed) FASTA in its `reference_data`, if any."""
    data = reference_data or {}

    def is_fasta(key: str) -> bool:
        try:
            path = storage.resolve_key(data, key, param="reference")
        except NotFound:
            return False
        return path.lower().endswith(FASTA_SUFFIXES)

    preferred = [key for key in FASTA_KEYS if key in data]
    others = sorted(key for key in data if key not in FASTA_KEYS)
    return next((key for key in (*preferred, *others) if is_fasta(key)), None)


async def igv_genome(
    request: Request, session: AsyncSession, user: User, assembly_name: str | None
) -> dict[str, Any]:
    """The igv.js `reference` (the assembly's FASTA through `assemblies/stream`) or, when
    there is none, igv.js' own `genome` id for the assembly."""
    assembly = None
    if assembly_name:
        assembly = await session.scalar(select(Assembly).where(Assembly.name == assembly_name))
    key = fasta_key(assembly.reference_data) if assembly is not None else None
    if assembly is None or key is None:
        if not assembly_name:
            return {}
        return {"genome": IGV_GENOMES.get(assembly_name, assembly_name)}
    ident = str(assembly.id)
    reference = {
        "id": assembly.name,
        "name": assembly.name,
        "fastaURL": stream_url(request, user, "assemblies", ident, "reference", key),
        "indexURL": stream_url(request, user, "assemblies", ident, "reference", key, index="true"),
    }
    return {"reference": reference}


def igv_config(
    genome: dict[str, Any], tracks: list[dict[str, Any]], locus: str | None
) -> dict[str, Any]:
    """The igv.js browser options."""
    config: dict[str, Any] = {**genome, "tracks": tracks, "showSampleNames": True}
    if "reference" in genome:
        # igv.js would fetch its list of genomes from the internet otherwise (and wait
        # seconds for it when offline); a local reference needs none.
        config["loadDefaultGenomes"] = False
    if locus:
        config["locus"] = locus
    return config


# ------------------------------------------------------------------ assemblies
async def assemblies_stream(
    request: Request,
    session: SessionDep,
    user: Annotated[User, Depends(stream_reader("assemblies", "reference"))],
    id: str,  # noqa: A002
    reference: Annotated[str, Query(description="Key of the reference.")],
    bytes: ByteParam = None,  # noqa: A002
    index: IndexParam = False,
    token: TokenParam = None,
) -> Response:
    """Render file from assembly reference files."""
    assembly = await assembly_service.get(session=session, ident=id)
    path = storage.resolve_key(assembly.reference_data, reference, param="reference")
    return stream_response(request, await open_file(request, path, index=index), bytes)


route(
    "/assemblies/stream/{id}",
    assemblies_stream,
    "assemblies_stream_read",
    dependencies=[],
    responses=RANGE_RESPONSES,
    summary="Stream a reference file",
)


# ------------------------------------------------------------------ experiments
def pick_bam(bam_files: Mapping[str, Any] | None, assembly: str | None) -> tuple[str, str]:
    """(assembly, path) of an experiment's BAM: the one of `assembly`, else the only one."""
    files = bam_files or {}
    if assembly:
        return assembly, storage.resolve_key(files, assembly, param="assembly")
    usable = []
    for name in sorted(files):
        try:
            usable.append((name, storage.resolve_key(files, name, param="assembly")))
        except NotFound:
            continue
    if not usable:
        raise NotFound("The experiment has no bam files.")
    if len(usable) > 1:
        names = ", ".join(name for name, _ in usable)
        raise BadRequest(f"The experiment has bam files for several assemblies; pick one: {names}")
    return usable[0]


async def experiments_stream(
    request: Request,
    session: SessionDep,
    user: Annotated[User, Depends(stream_reader("experiments", "assembly"))],
    id: str,  # noqa: A002
    assembly: Annotated[str | None, Query(description="Assembly of the bam file.")] = None,
    bytes: ByteParam = None,  # noqa: A002
    index: IndexParam = False,
    token: TokenParam = None,
) -> Response:
    """Render the experiment's bam file (or its index) for an assembly."""
    experiment = await experiment_service.get(session=session, ident=id)
    _, path = pick_bam(experiment.bam_files, assembly)
    return stream_response(request, await open_file(request, path, index=index), bytes)


route(
    "/experiments/stream/{id}",
    experiments_stream,
    "experiments_stream_read",
    dependencies=[],
    responses=RANGE_RESPONSES,
    summary="Stream an experiment's bam file",
)


async def experiments_igv(
    request: Request,
    session: SessionDep,
    user: Annotated[User, Depends(get_current_user)],
    system_id: str,
    locus: Annotated[str | None, Query(description="Locus to focus on")] = None,
    assembly: Annotated[str | None, Query(description="View a specific assembly")] = None,
) -> Response:
    """View Experiment in IGV."""
    experiment = await experiment_service.get(session=session, ident=system_id)
    name, path = pick_bam(experiment.bam_files, assembly)
    ident = str(experiment.id)
    track = alignment_track(
        f"{experiment.system_id or ident} ({name})",
        path,
        stream_url(request, user, "experiments", ident, "assembly", name),
        stream_url(request, user, "experiments", ident, "assembly", name, index="true"),
    )
    genome = await igv_genome(request, session, user, name)
    title = f"{experiment.system_id or ident} — {name}"
    return igv_page(request, title, igv_config(genome, [track], locus))


route(
    "/experiments/igv/{system_id}",
    experiments_igv,
    "experiments_igv_read",
    dependencies=[],
    summary="View Experiment in IGV",
)


# ------------------------------------------------------------------ slide viewer
_IMAGE_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


async def slideviewer(request: Request, image_ids: str) -> Response:
    """Create Slide Viewer custom URL given an image ID (image ID must already be in
    slideviewer to load)."""
    template = _settings(request).slideviewer_url
    if not template:
        raise NotFound("No slide viewer is configured (LABAPI_SLIDEVIEWER_URL).")
    ids = [part.strip() for part in image_ids.split(",") if part.strip()]
    if not ids or not all(_IMAGE_ID.match(part) for part in ids):
        raise BadRequest("image_ids: comma-separated ids of letters, digits, '.', '_' and '-'")
    return RedirectResponse(template.replace("{image_ids}", ",".join(ids)), status_code=302)


route(
    "/slideviewer/{image_ids}",
    slideviewer,
    "slideviewer_read",
    summary="Slide viewer URL",
    responses={302: {"description": "Redirect to the slide viewer"}, **FILE_RESPONSES},
)


# ------------------------------------------------------------------ analyses
def analysis_assembly(analysis: Any) -> str | None:
    """The name of the assembly of an analysis' application, if it was loaded with it
    (read from the instance's dict: a `lazy="raise"` relation is never triggered)."""
    application = vars(analysis).get("application")
    assembly = vars(application).get("assembly") if application is not None else None
    name = getattr(assembly, "name", None) if assembly is not None else None
    return name if isinstance(name, str) else None


def add_analysis_routes(target: APIRouter, service: ModelService) -> list[tuple[str, str]]:
    """Add `analyses/download|raw|stream|igv/<id>` to `target`, reading `results` of the
    objects `service` finds; returns the (method, path) pairs added."""
    added: list[tuple[str, str]] = []

    def add(path: str, endpoint: Callable[..., Any], operation_id: str, **kw: Any) -> None:
        kw.setdefault("responses", FILE_RESPONSES)
        add_route(
            target,
            path,
            endpoint,
            ["GET"],
            operation_id=operation_id,
            tags=["analyses"],
            response_class=Response,
            **kw,
        )
        bare = target.prefix + path
        added.extend([("GET", bare), ("GET", bare + "/")])

    async def result_file(
        request: Request, session: AsyncSession, ident: str, result: str, *, index: bool = False
    ) -> storage.OpenFile:
        analysis = await service.get(session=session, ident=ident)
        path = storage.resolve_key(analysis.results, result, param="result")
        return await open_file(request, path, index=index)

    Result = Annotated[str, Query(description="Key of the result.")]

    async def analyses_download(
        request: Request,
        session: SessionDep,
        id: str,
        result: Result,  # noqa: A002
    ) -> Response:
        """Render file given path relative to analysis output directory."""
        return download_response(await result_file(request, session, id, result))

    async def analyses_raw(
        request: Request,
        session: SessionDep,
        id: str,  # noqa: A002
        result: Result,
        lines: Lines = 5000,
        offset: Offset = 0,
        reverse: Reverse = False,
    ) -> Response:
        """cat-like render file given path relative to analysis output directory."""
        opened = await result_file(request, session, id, result)
        return await raw_response(request, opened, lines=lines, offset=offset, reverse=reverse)

    async def analyses_stream(
        request: Request,
        session: SessionDep,
        user: Annotated[User, Depends(stream_reader("analyses", "result"))],
        id: str,  # noqa: A002
        result: Result,
        bytes: ByteParam = None,  # noqa: A002
        index: IndexParam = False,
        token: TokenParam = None,
    ) -> Response:
        """Render file given path relative to analysis output directory."""
        opened = await result_file(request, session, id, result, index=index)
        return stream_response(request, opened, bytes)

    async def analyses_igv(
        request: Request,
        session: SessionDep,
        user: Annotated[User, Depends(get_current_user)],
        id: str,  # noqa: A002
        result: Annotated[str, Query(description="Result name of the bam path.")],
        result_index: Annotated[
            str | None, Query(description="Result name of the bam index path.")
        ] = None,
        locus: Annotated[str | None, Query(description="Locus to focus on")] = None,
    ) -> Response:
        """View Experiment in IGV."""
        analysis = await service.get(session=session, ident=id)
        path = storage.resolve_key(analysis.results, result, param="result")
        ident = str(analysis.id)
        url = stream_url(request, user, "analyses", ident, "result", result)
        if result_index:
            storage.resolve_key(analysis.results, result_index, param="result_index")
            index_url = stream_url(request, user, "analyses", ident, "result", result_index)
        else:
            index_url = stream_url(request, user, "analyses", ident, "result", result, index="true")
        track = alignment_track(f"analysis {ident}: {result}", path, url, index_url)
        genome = await igv_genome(request, session, user, analysis_assembly(analysis))
        return igv_page(request, f"Analysis {ident} — {result}", igv_config(genome, [track], locus))

    closed = {"dependencies": Authenticated}
    add("/analyses/download/{id}", analyses_download, "analyses_download_read", **closed)
    add("/analyses/raw/{id}", analyses_raw, "analyses_raw_read", **closed)
    add("/analyses/stream/{id}", analyses_stream, "analyses_stream_read", responses=RANGE_RESPONSES)
    add("/analyses/igv/{id}", analyses_igv, "analyses_igv_read")
    return added


CLOSED_ROUTES.extend(add_analysis_routes(router, services.analysis_service))


# ------------------------------------------------------------------ static
async def igv_js() -> Response:
    """The vendored igv.js (open: it is public code, and pages load it without headers)."""
    return FileResponse(
        IGV_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


add_route(
    static_router,
    IGV_JS_PATH,
    igv_js,
    ["GET"],
    operation_id="static_igv_js",
    response_class=Response,
)

ROUTERS: Sequence[APIRouter] = (router, static_router)
