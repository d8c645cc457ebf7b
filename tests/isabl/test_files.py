"""The file routes over HTTP, on real files in a temporary storage root: assemblies'
reference files, experiments' BAMs and their IGV page, the slide viewer redirect, and the
analyses routes on analyses created over HTTP.
"""

import gzip
import hashlib
import html
import json
import re
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import User
from labapi.core import storage
from labapi.isabl import files
from labapi.main import create_app
from tests.auth.conftest import assert_unauthorized
from tests.conftest import app_client, client_as, make_user, settings_for
from tests.isabl.factories import make_assembly, make_experiment

GENOME = b">chr1\n" + b"ACGT" * 25 + b"\n"
SLIDES = "https://slides.example.org/view?ids={image_ids}&x=1"


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A storage root with reference, alignment and result files, and a way out."""
    base = tmp_path_factory.mktemp("storage")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_bytes(b"secret\n")
    for folder in ("ref", "bam", "results"):
        (base / folder).mkdir()
    (base / "ref" / "genome.fa").write_bytes(GENOME)
    (base / "ref" / "genome.fa.fai").write_bytes(b"chr1\t100\t6\t100\t101\n")
    (base / "ref" / "empty.txt").write_bytes(b"")
    (base / "bam" / "x.bam").write_bytes(bytes(range(256)) * 4)
    (base / "bam" / "x.bam.bai").write_bytes(b"BAI\x01index")
    (base / "bam" / "y.cram").write_bytes(b"CRAM")
    (base / "results" / "log.txt").write_bytes(b"".join(b"line %d\n" % i for i in range(10)))
    (base / "results" / "table.tsv.gz").write_bytes(gzip.compress(b"a\tb\n1\t2\n3\t4"))
    (base / "results" / "reads.bam").write_bytes(gzip.compress(b"BAM\x01\x00\x00\x00\x00"))
    (base / "results" / "reads.bam.bai").write_bytes(b"BAI\x01")
    (base / "results" / "out").symlink_to(outside / "secret.txt")
    return base


def analysis_results(root: Path) -> dict[str, Any]:
    """An analysis' `results`: files in the root, in both shapes, and ways out of it."""
    r = root / "results"
    return {
        "log": str(r / "log.txt"),
        "table": {"url": str(r / "table.tsv.gz")},
        "bam": {"url": str(r / "reads.bam")},
        "bai": str(r / "reads.bam.bai"),
        "out": str(r / "out"),
        "passwd": "/etc/passwd",
        "dotdot": str(r / ".." / ".." / "etc" / "passwd"),
        "dir": str(r),
        "zero": "/dev/zero",
    }


@pytest.fixture(scope="session")
def files_app(engine: AsyncEngine, root: Path) -> FastAPI:
    """The app with the storage root and a slide viewer."""
    return create_app(settings_for(engine, storage_roots=[str(root)], slideviewer_url=SLIDES))


@pytest.fixture
async def user(session: AsyncSession) -> User:
    """A user without any permission (files are read, and reading needs none)."""
    return await make_user(session, "reader", email="reader@example.org")


@pytest.fixture
async def client(
    files_app: FastAPI, session: AsyncSession, user: User
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_as(files_app, session, user) as client:
        yield client


@pytest.fixture
async def anon(files_app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(files_app, session) as client:
        yield client


@pytest.fixture
async def assembly(session: AsyncSession, root: Path) -> Any:
    return await make_assembly(
        session,
        name=f"GRCh37-{id(session)}",
        reference_data={
            "genome_fasta": {"url": str(root / "ref" / "genome.fa")},
            "empty": str(root / "ref" / "empty.txt"),
            "passwd": "/etc/passwd",
            "zero": {"url": "/dev/zero"},
            "folder": str(root / "ref"),
            "dotdot": f"{root}/ref/../../outside/secret.txt",
            "remote": "s3://bucket/genome.fa",
        },
    )


def check(response: httpx.Response, status: int, body: bytes | None, **headers: str) -> None:
    assert response.status_code == status, (response.request.url, response.text[:300])
    if body is not None:
        assert response.content == body, response.request.url
    for name, value in headers.items():
        assert response.headers.get(name.replace("_", "-")) == value, (name, response.headers)


class TestAssembliesStream:
    async def test_ranges_at_every_edge(self, client: httpx.AsyncClient, assembly: Any) -> None:
        size = len(GENOME)
        base = f"/api/v1/assemblies/stream/{assembly.id}?reference=genome_fasta"
        cases: list[tuple[str, dict[str, str], int, bytes | None, dict[str, str]]] = [
            ("", {}, 200, GENOME, {"content_length": str(size), "accept_ranges": "bytes"}),
            ("", {"Range": "bytes=0-0"}, 206, GENOME[:1], {"content_range": f"bytes 0-0/{size}"}),
            ("", {"Range": f"bytes={size - 1}-"}, 206, GENOME[-1:], {}),
            ("", {"Range": f"bytes={size - 1}-{size - 1}"}, 206, GENOME[-1:], {}),
            ("", {"Range": "bytes=10-"}, 206, GENOME[10:], {"content_length": str(size - 10)}),
            ("", {"Range": "bytes=-5"}, 206, GENOME[-5:], {}),
            (
                "",
                {"Range": "bytes=-100000"},
                206,
                GENOME,
                {"content_range": f"bytes 0-{size - 1}/{size}"},
            ),
            ("", {"Range": "bytes=0-99999999"}, 206, GENOME, {}),
            ("", {"Range": f"bytes={size}-"}, 416, None, {"content_range": f"bytes */{size}"}),
            ("", {"Range": "bytes=99999999999999999999-"}, 416, None, {}),
            (
                "",
                {"Range": "bytes=2-3,6-7"},
                206,
                GENOME[2:4],
                {"content_range": f"bytes 2-3/{size}"},
            ),
            ("", {"Range": "bytes=5-1"}, 200, GENOME, {}),  # malformed header: ignored
            ("", {"Range": "lines=1-2"}, 200, GENOME, {}),
            ("&bytes=1-2", {}, 206, GENOME[1:3], {}),
            ("&bytes=bytes%3D1-2", {}, 206, GENOME[1:3], {}),
            ("&bytes=1-2", {"Range": "bytes=5-9"}, 206, GENOME[1:3], {}),  # parameter wins
            ("&bytes=-3", {}, 206, GENOME[-3:], {}),
            ("&bytes=5-1", {}, 400, None, {}),
            ("&bytes=x", {}, 400, None, {}),
            (f"&bytes={size}-", {}, 416, None, {}),
            ("&index=true", {}, 200, b"chr1\t100\t6\t100\t101\n", {}),
            ("&index=true", {"Range": "bytes=0-3"}, 206, b"chr1", {}),
        ]
        for query, headers, status, body, expected in cases:
            for url in (base + query, base.replace("?", "/?") + query):
                check(await client.get(url, headers=headers), status, body, **expected)
        response = await client.get(base)
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]

    async def test_what_is_not_served(
        self, client: httpx.AsyncClient, assembly: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        base = f"/api/v1/assemblies/stream/{assembly.id}"
        cases = {
            "?reference=empty": (200, b""),
            "?reference=empty&bytes=0-": (416, None),
            "?reference=passwd": (403, None),
            "?reference=zero": (403, None),
            "?reference=folder": (403, None),
            "?reference=dotdot": (403, None),
            "?reference=remote": (404, None),
            "?reference=%2e%2e": (404, None),  # a key, not a path
            "?reference=..%2f..%2fetc%2fpasswd": (404, None),
            "?reference=nope": (404, None),
            "?reference=": (404, None),
            "": (400, None),  # reference is required
            "?reference=genome_fasta&bytes=0-1&index=maybe": (400, None),
        }
        with caplog.at_level("WARNING", logger="labapi.files"):
            for query, (status, body) in cases.items():
                check(await client.get(base + query), status, body)
        assert any("/etc/passwd" in record.getMessage() for record in caplog.records)
        check(
            await client.get("/api/v1/assemblies/stream/999999?reference=genome_fasta"), 404, None
        )
        by_name = await client.get(
            f"/api/v1/assemblies/stream/{assembly.name}?reference=genome_fasta"
        )
        check(by_name, 200, GENOME)
        check(await client.get("/api/v1/assemblies/stream/..%2F..%2Fetc?reference=x"), 404, None)
        # The generated detail route is still there for everything else.
        check(await client.get(f"/api/v1/assemblies/{assembly.id}"), 200, None)

    async def test_credentials_or_a_signed_link(
        self, anon: httpx.AsyncClient, assembly: Any, user: User, files_app: FastAPI
    ) -> None:
        url = f"/api/v1/assemblies/stream/{assembly.id}?reference=genome_fasta"
        assert_unauthorized(await anon.get(url))
        assert_unauthorized(await anon.get(url + "&token=garbage"))
        assert_unauthorized(await anon.get("/api/v1/assemblies/stream/1"))  # 401 before 400
        key = files.signing_key(files_app.state.settings)
        scope = files.link_scope("assemblies", str(assembly.id), "genome_fasta")
        token = storage.sign_file_link(key, scope, user.id, 60)
        check(
            await anon.get(f"{url}&token={token}", headers={"Range": "bytes=0-4"}), 206, GENOME[:5]
        )
        check(await anon.get(f"{url}&token={token}&index=true"), 200, None)
        # Another key, another object, another user's expired link: refused.
        assert_unauthorized(await anon.get(f"{url.replace('genome_fasta', 'empty')}&token={token}"))
        other = f"/api/v1/assemblies/stream/{assembly.name}?reference=genome_fasta&token={token}"
        assert_unauthorized(await anon.get(other))
        expired = storage.sign_file_link(key, scope, user.id, -1)
        assert_unauthorized(await anon.get(f"{url}&token={expired}"))
        user.is_active = False
        assert_unauthorized(await anon.get(f"{url}&token={token}"))


def igv_config(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="igv-config">(.*?)</script>', page, re.S)
    assert match is not None, page
    config: dict[str, Any] = json.loads(match[1])
    return config


class TestExperiments:
    async def test_igv_page_and_its_links(
        self,
        client: httpx.AsyncClient,
        anon: httpx.AsyncClient,
        session: AsyncSession,
        assembly: Any,
        root: Path,
    ) -> None:
        bam = str(root / "bam" / "x.bam")
        experiment = await make_experiment(
            session, bam_files={assembly.name: {"url": bam, "analysis": 1}}
        )
        locus = 'chr1:1-50"</script><script>alert(1)</script>'
        for path in (experiment.system_id, str(experiment.id)):
            response = await client.get(f"/api/v1/experiments/igv/{path}/", params={"locus": locus})
            check(response, 200, None, cache_control="no-store", referrer_policy="no-referrer")
            assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = response.text
        assert "<script>alert(1)" not in page
        assert f'src="{files.IGV_JS_PATH}?v={files.IGV_VERSION}"' in page
        assert html.escape(experiment.system_id) in page
        config = igv_config(page)
        assert config["locus"] == locus
        (track,) = config["tracks"]
        assert (track["type"], track["format"]) == ("alignment", "bam")
        reference = config["reference"]
        data = (root / "bam" / "x.bam").read_bytes()
        # The page's links work without credentials, and only for their own file.
        for url, expected in (
            (track["url"], data),
            (track["indexURL"], b"BAI\x01index"),
            (reference["fastaURL"], GENOME),
            (reference["indexURL"], b"chr1\t100\t6\t100\t101\n"),
        ):
            assert parse_qs(urlsplit(url).query)["token"]
            check(await anon.get(url), 200, expected)
            check(await anon.get(url, headers={"Range": "bytes=1-3"}), 206, expected[1:4])
        forged = track["url"].replace(f"/stream/{experiment.id}?", f"/stream/{experiment.id + 1}?")
        assert_unauthorized(await anon.get(forged))
        assert_unauthorized(await anon.get(track["url"].replace(assembly.name, "GRCh38")))
        assert_unauthorized(await anon.get(f"/api/v1/experiments/igv/{experiment.system_id}"))

    async def test_picking_the_bam(
        self, client: httpx.AsyncClient, session: AsyncSession, root: Path
    ) -> None:
        bam, cram = str(root / "bam" / "x.bam"), str(root / "bam" / "y.cram")
        two = await make_experiment(session, bam_files={"GRCh37": bam, "GRCh38": {"url": cram}})
        none = await make_experiment(session, bam_files={})
        out = await make_experiment(session, bam_files={"GRCh37": "/etc/passwd"})
        igv = "/api/v1/experiments/igv/"
        check(await client.get(f"{igv}{two.system_id}"), 400, None)
        check(await client.get(f"{igv}{two.system_id}?assembly=hg99"), 404, None)
        check(await client.get(f"{igv}{none.system_id}"), 404, None)
        check(await client.get(f"{igv}no-such-experiment"), 404, None)
        response = await client.get(f"{igv}{two.system_id}?assembly=GRCh38")
        check(response, 200, None)
        config = igv_config(response.text)
        assert config["tracks"][0]["format"] == "cram"
        assert config["genome"] == "hg38"  # no such assembly here: igv.js' own id
        response = await client.get(f"{igv}{two.system_id}?assembly=GRCh37")
        assert igv_config(response.text)["genome"] == "hg19"
        assert "locus" not in igv_config(response.text)
        stream = f"/api/v1/experiments/stream/{two.system_id}"
        check(await client.get(f"{stream}?assembly=GRCh38"), 200, b"CRAM")
        check(await client.get(f"{stream}?assembly=GRCh38&index=true"), 404, None)
        check(await client.get(stream), 400, None)
        check(await client.get(f"/api/v1/experiments/stream/{out.system_id}"), 403, None)
        # The page itself opens nothing: a BAM outside the roots fails at its links.
        response = await client.get(f"{igv}{out.system_id}")
        check(response, 200, None)


class TestSlideViewer:
    async def test_redirect(
        self, client: httpx.AsyncClient, anon: httpx.AsyncClient, files_app: FastAPI
    ) -> None:
        response = await client.get("/api/v1/slideviewer/12,ab-3.svs")
        check(response, 302, None, location="https://slides.example.org/view?ids=12,ab-3.svs&x=1")
        check(await client.get("/api/v1/slideviewer/12/"), 302, None)
        for bad in ("a%20b", "%3Cscript%3E", ",,", "x%26y%3D1"):
            check(await client.get(f"/api/v1/slideviewer/{bad}"), 400, None)
        assert_unauthorized(await anon.get("/api/v1/slideviewer/12"))
        settings = files_app.state.settings
        files_app.state.settings = settings.model_copy(update={"slideviewer_url": None})
        try:
            check(await client.get("/api/v1/slideviewer/12"), 404, None)
        finally:
            files_app.state.settings = settings


@pytest.fixture
async def analysis(
    files_app: FastAPI, session: AsyncSession, superuser: User, assembly: Any, root: Path
) -> int:
    """The pk of an analysis made over HTTP: an application on `assembly` (whose
    reference data has a FASTA), a target experiment, and `analysis_results`."""
    async with client_as(files_app, session, superuser) as admin:
        application = await created(
            admin,
            "applications",
            {"name": "BWA", "version": "0.7.17", "assembly": {"pk": assembly.id}},
        )
        center = {"name": "MSK", "acronym": "MSK"}
        patient = {"identifier": "P1", "species": "HUMAN", "center": center}
        experiment = await created(
            admin,
            "experiments",
            {
                "identifier": "E1",
                "sample": {"identifier": "S1", "category": "TUMOR", "individual": patient},
                "technique": {"name": "Whole Genome", "method": "WG"},
            },
        )
        body = {
            "application": {"pk": application["pk"]},
            "targets": [{"pk": experiment["pk"]}],
            "results": analysis_results(root),
        }
        return int((await created(admin, "analyses", body))["pk"])


async def created(client: httpx.AsyncClient, resource: str, body: dict[str, Any]) -> Any:
    """POST a body that must create an object; its representation."""
    response = await client.post(f"/api/v1/{resource}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


class TestAnalyses:
    async def test_download(self, client: httpx.AsyncClient, root: Path, analysis: int) -> None:
        url = f"/api/v1/analyses/download/{analysis}"
        response = await client.get(url, params={"result": "table"})
        check(response, 200, (root / "results" / "table.tsv.gz").read_bytes())
        assert response.headers["content-type"] == "application/gzip"
        assert "content-encoding" not in response.headers
        assert response.headers["content-disposition"] == (
            "attachment; filename=\"table.tsv.gz\"; filename*=UTF-8''table.tsv.gz"
        )
        response = await client.get(url + "/", params={"result": "bam"})
        check(response, 200, (root / "results" / "reads.bam").read_bytes())
        assert response.headers["content-type"] == "application/x-bam"
        for result, status in {
            "out": 403,
            "passwd": 403,
            "dotdot": 403,
            "dir": 403,
            "zero": 403,
            "nope": 404,
        }.items():
            check(await client.get(url, params={"result": result}), status, None)
        check(await client.get(f"/api/v1/analyses/download/{analysis + 1}?result=log"), 404, None)
        check(await client.get(url), 400, None)

    async def test_raw(self, client: httpx.AsyncClient, analysis: int) -> None:
        url = f"/api/v1/analyses/raw/{analysis}?result="
        lines = [b"line %d\n" % i for i in range(10)]
        cases = {
            "log": b"".join(lines),
            "log&lines=2": b"".join(lines[:2]),
            "log&lines=2&offset=3": b"".join(lines[3:5]),
            "log&lines=2&reverse=true": b"".join(lines[-2:]),
            "log&lines=2&offset=1&reverse=True": b"".join(lines[-3:-1]),
            "log&offset=99999999999999999999": b"",
            "log&offset=99999999999999999999&reverse=1": b"",
            "log&lines=0": b"",
            "table": b"a\tb\n1\t2\n3\t4",
            "table&reverse=true&lines=1": b"3\t4",
        }
        for query, body in cases.items():
            response = await client.get(url + query)
            check(response, 200, body)
            assert response.headers["content-type"] == "text/plain; charset=utf-8"
        for query, status in {
            "bam": 400,  # binary
            "log&lines=-1": 400,
            "log&offset=x": 400,
            "log&reverse=maybe": 400,
            "nope": 404,
            "out": 403,
            "zero": 403,
        }.items():
            check(await client.get(url + query), status, None)

    async def test_stream_and_igv(
        self,
        client: httpx.AsyncClient,
        anon: httpx.AsyncClient,
        root: Path,
        analysis: int,
        assembly: Any,
    ) -> None:
        data = (root / "results" / "log.txt").read_bytes()
        stream = f"/api/v1/analyses/stream/{analysis}?result=log"
        check(await client.get(stream, headers={"Range": "bytes=-7"}), 206, data[-7:])
        check(await client.get(stream + "&bytes=0-3"), 206, data[:4])
        check(await client.get(f"/api/v1/analyses/stream/{analysis}?result=passwd"), 403, None)
        check(await client.get(f"/api/v1/analyses/stream/{analysis}?result=nope"), 404, None)
        assert_unauthorized(await anon.get(stream))
        igv = f"/api/v1/analyses/igv/{analysis}"
        for index in ("bai", None):
            params = {"result": "bam", "locus": "chr1:1-10"}
            if index:
                params["result_index"] = index
            response = await client.get(igv, params=params)
            check(response, 200, None)
            config = igv_config(response.text)
            (track,) = config["tracks"]
            assert f"/analyses/stream/{analysis}?result=bam&token=" in track["url"]
            # The application's assembly has a FASTA: the page reads it through its link.
            reference = config["reference"]
            assert reference["name"] == assembly.name
            assert f"/assemblies/stream/{assembly.id}?" in reference["fastaURL"]
            assert config["loadDefaultGenomes"] is False
            for url, expected in (
                (track["indexURL"], b"BAI\x01"),
                (reference["fastaURL"], GENOME),
                (reference["indexURL"], b"chr1\t100\t6\t100\t101\n"),
            ):
                assert parse_qs(urlsplit(url).query)["token"]
                check(await anon.get(url), 200, expected)
            check(await anon.get(track["url"], headers={"Range": "bytes=0-1"}), 206, b"\x1f\x8b")
        check(await client.get(f"{igv}?result=nope"), 404, None)
        check(await client.get(f"{igv}?result=bam&result_index=nope"), 404, None)
        check(await client.get(f"/api/v1/analyses/igv/{analysis + 1}?result=bam"), 404, None)
        assert_unauthorized(await anon.get(f"{igv}?result=bam"))

    async def test_igv_without_a_fasta_names_the_genome(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        superuser: User,
        files_app: FastAPI,
        root: Path,
    ) -> None:
        bam = {"bam": {"url": str(root / "results" / "reads.bam")}}
        async with client_as(files_app, session, superuser) as admin:
            pks = []
            for application in (
                {"name": "BWA", "version": "1", "assembly": {"name": "GRCh37", "species": "HUMAN"}},
                {"name": "BWA", "version": "2"},
            ):
                body = {"application": application, "results": bam}
                pks.append((await created(admin, "analyses", body))["pk"])
        genomes = []
        for pk in pks:
            response = await client.get(f"/api/v1/analyses/igv/{pk}?result=bam")
            check(response, 200, None)
            config = igv_config(response.text)
            genomes.append((config.get("genome"), "reference" in config))
        assert genomes == [("hg19", False), (None, False)]


class TestLargeFiles:
    async def test_a_download_streams_in_chunks(self, tmp_path: Path) -> None:
        big = tmp_path / "big.bam"
        with big.open("wb") as f:
            f.truncate(256 * 1024 * 1024)  # sparse: no disk used
        opened = storage.open_in_roots(str(big), [str(tmp_path)])
        response = files.download_response(opened)
        assert response.headers["content-length"] == str(256 * 1024 * 1024)
        tracemalloc.start()
        total = 0
        async for chunk in response.body_iterator:
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert total == 256 * 1024 * 1024
        assert peak < 8 * storage.CHUNK


class TestStatic:
    async def test_igv_js_is_vendored_and_open(self, anon: httpx.AsyncClient) -> None:
        response = await anon.get(files.IGV_JS_PATH)
        check(response, 200, files.IGV_JS.read_bytes())
        assert response.headers["content-type"].startswith("text/javascript")
        assert hashlib.sha256(response.content).hexdigest() == files.IGV_SHA256
        makefile = (Path(__file__).parents[2] / "Makefile").read_text()
        assert f"IGV_VERSION := {files.IGV_VERSION}\n" in makefile
        assert (files.IGV_JS.parent / "LICENSE").read_text().startswith("The MIT License")
