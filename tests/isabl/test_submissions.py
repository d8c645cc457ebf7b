"""Excel submissions over HTTP (SPEC §5): the template, uploads, dry runs and commits, and
every kind of bad form; on both databases."""

import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from labapi.auth.models import User
from labapi.isabl.models import Aliquot, Experiment, Individual, Sample, Submission
from labapi.main import create_app
from tests.conftest import client_as, make_user, settings_for
from tests.isabl.cases import PREFIX, assert_problem
from tests.isabl.factories import make_individual, make_sample
from tests.isabl.forms import (
    HEADER,
    XLSX,
    cells,
    make_references,
    process,
    row,
    submit,
    upload,
    workbook,
)

MODELS = {
    "individuals": Individual,
    "samples": Sample,
    "aliquots": Aliquot,
    "experiments": Experiment,
}


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this run's apps keep uploaded forms."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def submissions_app(engine: AsyncEngine, media: Path) -> FastAPI:
    """The application with its media root in a temporary directory."""
    return create_app(settings_for(engine, media_root=str(media)))


@pytest.fixture
async def client(
    submissions_app: FastAPI, session: AsyncSession, superuser: User
) -> AsyncIterator[httpx.AsyncClient]:
    """A superuser's client on the submissions app."""
    async with client_as(submissions_app, session, superuser) as client:
        yield client


@pytest.fixture
async def refs(session: AsyncSession) -> dict[str, Any]:
    """The reference objects the forms name."""
    return await make_references(session)


async def counts(session: AsyncSession) -> dict[str, int]:
    """How many objects of each level are stored."""
    return {
        name: int(await session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in MODELS.items()
    }


def files(root: Path) -> list[Path]:
    """Every file below `root`."""
    return sorted(path for path in root.rglob("*") if path.is_file())


def summary(report: dict[str, Any], key: str) -> dict[str, int]:
    """`{level: n}` of the report's summary for `key` ("new" or "existing")."""
    return {level: values[key] for level, values in report["summary"].items()}


class TestTemplate:
    @pytest.mark.parametrize("slash", ["", "/"])
    async def test_download(
        self, client: httpx.AsyncClient, refs: dict[str, Any], slash: str
    ) -> None:
        response = await client.get(f"{PREFIX}/submissions/download{slash}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == XLSX
        assert "attachment" in response.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        sheet = book.worksheets[0]
        header = [cell.value for cell in sheet[1]]
        assert header == HEADER
        assert sheet.max_row == 2  # one header row, one example row
        identifiers = [h for h in header if "identifier" in h]
        assert identifiers == [
            "individual_identifier",
            "sample_identifier",
            "aliquot_identifier",
            "experiment_identifier",
        ]
        assert all(cell.comment is not None and cell.comment.text for cell in sheet[1])
        validated = {
            header[openpyxl.utils.column_index_from_string(str(rng).split(":")[0][0]) - 1]
            for validation in sheet.data_validations.dataValidation
            for rng in validation.sqref.ranges
        }
        assert {"species", "gender", "category", "center", "technique", "platform"} <= validated
        example = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
        assert example["center"] == "MSK"
        assert example["technique"] in ("Whole Genome", "Transcriptome")
        choices = book["choices"]
        assert choices.sheet_state == "hidden"
        species_column = [c.value for c in choices["B"] if c.value is not None]
        assert species_column == ["species", "HUMAN", "MOUSE"]

    async def test_the_example_row_can_be_submitted_as_is(
        self, client: httpx.AsyncClient, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        template = (await client.get(f"{PREFIX}/submissions/download")).content
        report = await submit(client, template, commit=False)
        assert report["errors"] == [], report
        assert report["status"] == "valid"
        assert summary(report, "new") == dict.fromkeys(MODELS, 1)
        report = await submit(client, template, commit=True)
        assert report["status"] == "committed", report
        assert await counts(session) == dict.fromkeys(MODELS, 1)

    async def test_needs_credentials(self, anon_client: httpx.AsyncClient) -> None:
        assert_problem(await anon_client.get(f"{PREFIX}/submissions/download"), 401)


class TestUpload:
    async def test_multipart_create_stores_the_form(
        self, client: httpx.AsyncClient, refs: dict[str, Any], media: Path
    ) -> None:
        project = refs["project"]
        response = await upload(
            client, workbook([row()]), projects=[project.id], name="my form.xlsx"
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["description"] == "A batch"
        assert body["submission_form_name"] == "my form.xlsx"
        assert body["submission_form"].endswith("/my_form.xlsx")
        assert (media / body["submission_form"]).is_file()
        assert [p["pk"] for p in body["projects"]] == [project.id]
        assert body["processed"] is None
        assert body["data"] == {}
        assert body["model_name"] == "Submission"

    async def test_json_create_then_patch_the_form(
        self, client: httpx.AsyncClient, refs: dict[str, Any]
    ) -> None:
        response = await client.post(
            f"{PREFIX}/submissions/", json={"description": "later", "projects": []}
        )
        assert response.status_code == 201, response.text
        pk = response.json()["pk"]
        assert response.json()["submission_form"] is None
        missing = await client.post(f"{PREFIX}/submissions/process/{pk}", json={})
        assert_problem(missing, 400, locs=[["body", "submission_form"]])
        patched = await client.patch(
            f"{PREFIX}/submissions/{pk}/",
            data={"notes": "attached"},
            files={"submission_form": ("f.xlsx", workbook([row()]), XLSX)},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["notes"] == "attached"
        assert patched.json()["submission_form_name"] == "f.xlsx"
        report = await process(client, pk, commit=False, slash="/")
        assert report["status"] == "valid", report

    async def test_bad_bodies(self, client: httpx.AsyncClient, refs: dict[str, Any]) -> None:
        unknown = await client.post(f"{PREFIX}/submissions", json={"projects": [987654]})
        assert_problem(unknown, 400, locs=[["body", "projects", 0, "pk"]])
        long = await client.post(f"{PREFIX}/submissions", json={"description": "x" * 141})
        assert_problem(long, 400, locs=[["body", "description"]])
        text = await client.post(
            f"{PREFIX}/submissions", files={"submission_form": (None, "not a file")}
        )
        assert_problem(text, 400, locs=[["body", "submission_form"]])
        absent = await client.post(f"{PREFIX}/submissions/process/987654", json={"commit": True})
        assert_problem(absent, 404)

    async def test_a_committed_form_cannot_be_replaced(
        self, client: httpx.AsyncClient, refs: dict[str, Any]
    ) -> None:
        response = await upload(client, workbook([row()]))
        pk = response.json()["pk"]
        await process(client, pk, commit=True)
        again = await client.patch(
            f"{PREFIX}/submissions/{pk}",
            files={"submission_form": ("f.xlsx", workbook([row(n=2)]), XLSX)},
        )
        assert_problem(again, 409)

    async def test_permissions(
        self, submissions_app: FastAPI, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        reader = await make_user(session, "reader")
        adder = await make_user(session, "adder", permissions=("isabl.add_submission",))
        async with client_as(submissions_app, session, reader) as client:
            assert (await client.get(f"{PREFIX}/submissions/download")).status_code == 200
            assert_problem(await upload(client, workbook([row()])), 403)
        async with client_as(submissions_app, session, adder) as client:
            response = await upload(client, workbook([row()]))
            assert response.status_code == 201
            pk = response.json()["pk"]
            denied = await client.post(f"{PREFIX}/submissions/process/{pk}", json={})
            body = assert_problem(denied, 403)
            assert "isabl.change_submission" in body["detail"]
        assert await counts(session) == dict.fromkeys(MODELS, 0)


def _date_identifier(sheet: Any) -> None:
    sheet["F2"] = dt.datetime(2024, 3, 12)


def _formula(sheet: Any) -> None:
    sheet["E2"] = "=1900+70"


# name: (workbook, the (row, column) of every expected problem, a word of its message)
BAD_FORMS: dict[str, tuple[bytes, list[tuple[Any, Any]], str]] = {
    "empty sheet": (workbook([], header=[]), [(None, None)], "empty"),
    "header only": (workbook([]), [(None, None)], "no rows"),
    "missing columns": (
        workbook([row()], header=[h for h in HEADER if h not in ("category", "technique")]),
        [(1, "category"), (1, "technique")],
        "missing",
    ),
    "extra columns": (
        workbook([row()], header=[*HEADER, "favourite colour"]),
        [(1, "favourite colour")],
        "unknown column",
    ),
    "repeated column": (workbook([row()], header=[*HEADER, "species"]), [(1, "species")], "twice"),
    "merged cells": (
        workbook([row(), row(n=2)], merge=["A2:A3"]),
        [(2, "individual_identifier")],
        "merged",
    ),
    "formulas": (workbook([row()], edit=_formula), [(2, "birth_year")], "formula"),
    "dates typed as text": (
        workbook([row(birth_year="1970-05-12"), row(n=2, collection_days="12/05/2020")]),
        [(2, "birth_year"), (3, "collection_days")],
        "date typed as text",
    ),
    "a date where text belongs": (
        workbook([row()], edit=_date_identifier),
        [(2, "sample_identifier")],
        "date",
    ),
    "enum typos": (
        workbook([row(category="TUMR"), row(n=2, species="HUAMN", gender="femal")]),
        [(2, "category"), (3, "species"), (3, "gender")],
        "did you mean",
    ),
    "unknown references": (
        workbook([row(center="MKS", technique="Whole Genom", platform="ILLUMNA HISEQ 2500")]),
        [(2, "center"), (2, "technique"), (2, "platform")],
        "did you mean",
    ),
    "required blanks": (
        workbook([row(individual_identifier=None, experiment_identifier=" ")]),
        [(2, "individual_identifier"), (2, "experiment_identifier")],
        "required",
    ),
    "out of range": (
        workbook([row(birth_year=1492, collection_days=-1)]),
        [(2, "birth_year"), (2, "collection_days")],
        "greater than",
    ),
    "rows that disagree": (
        workbook([row(), row(experiment_identifier="RUN-2", gender="MALE"), row()]),
        [(3, "gender"), (4, "experiment_identifier")],
        "row 2",
    ),
}


class TestBadForms:
    async def test_every_bad_cell_is_reported_and_nothing_is_created(
        self, client: httpx.AsyncClient, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        for name, (content, expected, word) in BAD_FORMS.items():
            for commit in (False, True):
                report = await submit(client, content, commit=commit)
                assert report["status"] == "invalid", (name, report)
                assert sorted(cells(report), key=repr) == sorted(expected, key=repr), (
                    name,
                    report["errors"],
                )
                assert report["error_count"] == len(expected), name
                assert any(word in error["message"] for error in report["errors"]), (
                    name,
                    report["errors"],
                )
                assert await counts(session) == dict.fromkeys(MODELS, 0), name
        processed = await session.scalar(
            select(func.count()).where(Submission.processed.is_not(None))
        )
        assert processed == 0

    async def test_a_suggestion_names_the_closest_member(
        self, client: httpx.AsyncClient, refs: dict[str, Any]
    ) -> None:
        report = await submit(client, workbook([row(category="tumr", center="MKS")]), commit=False)
        messages = {error["column"]: error["message"] for error in report["errors"]}
        assert "did you mean 'TUMOR'?" in messages["category"]
        assert "did you mean 'MSK'?" in messages["center"]
        assert report["errors"][0]["value"] in ("tumr", "MKS")

    @pytest.mark.parametrize(
        ("content", "name"),
        [
            (b"individual_identifier,species\nP1,HUMAN\n", "form.csv"),
            (b"PK\x03\x04 not really a zip", "form.xlsx"),
            (b"", "form.xlsx"),
        ],
    )
    async def test_not_an_xlsx_is_refused_at_upload(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        media: Path,
        content: bytes,
        name: str,
    ) -> None:
        before = files(media)
        body = assert_problem(
            await upload(client, content, name=name), 400, locs=[["body", "submission_form"]]
        )
        assert "submission_form" in body["errors"][0]["loc"]
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
        assert files(media) == before


BOUNDARY = "labapi-boundary"


def _big_body(size: int) -> AsyncIterator[bytes]:
    """A multipart body carrying a `size`-byte form, produced chunk by chunk."""

    async def chunks() -> AsyncIterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="submission_form"; '
            f'filename="big.xlsx"\r\nContent-Type: {XLSX}\r\n\r\n'
        ).encode()
        chunk = b"\0" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    return chunks()


@cache
def ten_thousand_rows() -> bytes:
    """A 10,000-row form (two experiments per sample), built once per run."""
    rows = [
        row(n=n // 2, experiment_identifier=f"RUN-{n}", aliquot_identifier=None)
        for n in range(10_000)
    ]
    return workbook(rows)


class TestLimits:
    async def test_a_50_mb_upload_is_a_413(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
        size = 50 * 1024 * 1024
        # Declared up front: refused before a byte is read.
        declared = await client.post(
            f"{PREFIX}/submissions",
            content=_big_body(size),
            headers={**headers, "content-length": str(size)},
        )
        assert_problem(declared, 413)
        # Streamed without a length: refused once the body passes the limit.
        streamed = await client.post(
            f"{PREFIX}/submissions", content=_big_body(size), headers=headers
        )
        assert_problem(streamed, 413)
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0

    async def test_the_form_limit_is_a_setting(
        self, engine: AsyncEngine, session: AsyncSession, superuser: User, tmp_path: Path
    ) -> None:
        app = create_app(
            settings_for(engine, media_root=str(tmp_path), submission_max_bytes=20_000)
        )
        big = workbook([row(n=n) for n in range(1, 1000)])
        assert len(big) > 20_000
        async with client_as(app, session, superuser) as client:
            body = assert_problem(await upload(client, big), 413)
            assert "20000" in body["detail"]
            assert (await upload(client, workbook([row()]))).status_code == 201
        assert len(files(tmp_path)) == 1
        assert await session.scalar(select(func.count()).select_from(Submission)) == 1

    async def test_a_10000_row_form(
        self, client: httpx.AsyncClient, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        report = await submit(client, ten_thousand_rows(), commit=True)
        assert report["status"] == "committed", report["errors"][:5]
        assert report["rows"] == 10_000
        expected = {"individuals": 5000, "samples": 5000, "aliquots": 0, "experiments": 10_000}
        assert summary(report, "new") == expected
        assert await counts(session) == expected

    async def test_more_rows_than_the_setting_allows(
        self, engine: AsyncEngine, session: AsyncSession, superuser: User, tmp_path: Path
    ) -> None:
        await make_references(session)
        app = create_app(
            settings_for(
                engine, media_root=str(tmp_path), submission_max_rows=5, submission_max_errors=3
            )
        )
        async with client_as(app, session, superuser) as client:
            too_many = await submit(client, workbook([row(n=n) for n in range(6)]), commit=True)
            assert too_many["status"] == "invalid"
            assert cells(too_many) == [(7, None)]
            bad = await submit(
                client, workbook([row(n=n, category="X") for n in range(5)]), commit=False
            )
            assert bad["error_count"] == 5
            assert len(bad["errors"]) == 3
        assert await counts(session) == dict.fromkeys(MODELS, 0)


SYSTEM_ID = re.compile(r"^ISB_H\d{6}_T01_01_WG01$")


class TestEndToEnd:
    async def test_template_typos_dry_run_fix_commit_resubmit(
        self, client: httpx.AsyncClient, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        project, extra = refs["project"], await _project(client, "Extra")
        template = (await client.get(f"{PREFIX}/submissions/download")).content
        book = openpyxl.load_workbook(io.BytesIO(template))
        sheet = book.worksheets[0]
        header = [cell.value for cell in sheet[1]]
        sheet.delete_rows(2)  # the lab replaces the example with its own rows
        lab_rows = [
            row(n=1),
            row(
                n=1,
                sample_identifier="PATIENT-1-N",
                category="NORMEL",
                aliquot_identifier=None,
                experiment_identifier="PATIENT-1-N-WGS",
            ),
            row(n=2, center="MKS", birth_year="1980-02-01", projects=f"{extra['pk']}"),
            row(n=3, technique="transcriptom", experiment_identifier="PATIENT-3-T-RNA"),
        ]
        for values in lab_rows:
            sheet.append([values.get(key) for key in header])
        filled = io.BytesIO()
        book.save(filled)

        response = await upload(client, filled.getvalue(), projects=[project.id])
        submission = response.json()["pk"]
        dry = await process(client, submission, commit=False)
        assert dry["status"] == "invalid"
        assert cells(dry) == [(3, "category"), (4, "center"), (4, "birth_year"), (5, "technique")]
        assert "did you mean 'NORMAL'?" in dry["errors"][0]["message"]
        assert "did you mean 'Transcriptome'?" in dry["errors"][3]["message"]
        assert await counts(session) == dict.fromkeys(MODELS, 0)
        stored = await client.get(f"{PREFIX}/submissions/{submission}")
        assert stored.json()["data"] == dry
        assert stored.json()["processed"] is None

        # The lab fixes every cell the dry run named and uploads again.
        sheet["G3"], sheet["C4"], sheet["E4"], sheet["L5"] = "NORMAL", "MSK", 1980, "Transcriptome"
        fixed = io.BytesIO()
        book.save(fixed)
        response = await upload(client, fixed.getvalue(), projects=[project.id])
        fixed_pk = response.json()["pk"]
        dry = await process(client, fixed_pk, commit=False)
        assert dry["status"] == "valid", dry["errors"]
        assert summary(dry, "new") == {
            "individuals": 3,
            "samples": 4,
            "aliquots": 3,
            "experiments": 4,
        }
        assert await counts(session) == dict.fromkeys(MODELS, 0)

        done = await client.post(f"{PREFIX}/submissions/process/{fixed_pk}/", json={"commit": True})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["data"]["status"] == "committed"
        assert body["processed"] is not None
        assert summary(body["data"], "new") == summary(dry, "new")
        assert await counts(session) == {
            "individuals": 3,
            "samples": 4,
            "aliquots": 3,
            "experiments": 4,
        }
        experiments = (
            await client.get(f"{PREFIX}/experiments", params={"ordering": "identifier"})
        ).json()["results"]
        by_identifier = {e["identifier"]: e for e in experiments}
        first = by_identifier["PATIENT-1-T-WGS"]
        assert SYSTEM_ID.match(first["system_id"]), first["system_id"]
        individual = first["sample"]["individual"]
        assert individual["system_id"] == f"ISB_H{individual['pk']:06d}"
        assert by_identifier["PATIENT-1-N-WGS"]["system_id"].endswith("_N01_00_WG01")
        assert by_identifier["PATIENT-3-T-RNA"]["system_id"].endswith("_T01_01_TR01")
        assert first["aliquot"]["system_id"].endswith("_T01_01")
        assert all(e["submission"] == fixed_pk for e in experiments)
        assert first["sample"]["submission"] == fixed_pk
        assert individual["submission"] == fixed_pk
        assert individual["gender"] == "FEMALE"
        assert individual["birth_year"] == 1970
        assert first["sample"]["disease"]["acronym"] == "AML"
        assert first["platform"]["system"] == "HISEQ"
        assert [p["pk"] for p in first["projects"]] == [project.id]
        assert [p["pk"] for p in by_identifier["PATIENT-2-T-WGS"]["projects"]] == sorted(
            [project.id, extra["pk"]]
        )
        assert first["created_by"] == "root"
        listed = await client.get(f"{PREFIX}/individuals", params={"submission": fixed_pk})
        assert listed.json()["count"] == 3
        processed = await client.get(f"{PREFIX}/submissions", params={"processed__isnull": False})
        assert [s["pk"] for s in processed.json()["results"]] == [fixed_pk]

        # The same file again creates nothing new.
        again = await submit(client, fixed.getvalue(), commit=True, projects=[project.id])
        assert again["status"] == "committed"
        assert summary(again, "new") == dict.fromkeys(MODELS, 0)
        assert summary(again, "existing") == summary(dry, "new")
        assert await counts(session) == {
            "individuals": 3,
            "samples": 4,
            "aliquots": 3,
            "experiments": 4,
        }

    async def test_new_rows_number_after_stored_siblings(
        self, client: httpx.AsyncClient, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        await submit(client, workbook([row()]), commit=True)
        more = [
            row(experiment_identifier="RUN-2"),
            row(aliquot_identifier="PATIENT-1-T-A2", experiment_identifier="RUN-3"),
            row(sample_identifier="PATIENT-1-T2", experiment_identifier="RUN-4"),
        ]
        report = await submit(client, workbook(more), commit=True)
        assert summary(report, "new") == {
            "individuals": 0,
            "samples": 1,
            "aliquots": 2,
            "experiments": 3,
        }
        # Through the API one by one the same objects get the same ids.
        ids = sorted(
            e["system_id"] for e in (await client.get(f"{PREFIX}/experiments")).json()["results"]
        )
        prefix = ids[0][: len("ISB_H000000")]
        assert ids == [
            f"{prefix}_T01_01_WG01",
            f"{prefix}_T01_01_WG02",
            f"{prefix}_T01_02_WG01",
            f"{prefix}_T02_01_WG01",
        ]


class TestAllOrNone:
    async def test_a_clash_while_writing_keeps_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, refs: dict[str, Any]
    ) -> None:
        """A stored sample holding the system id the commit would give a new one (a NORMAL
        sample named like a tumor's) makes the last insert fail: the new individual of the
        first row, written before, is rolled back with everything else."""
        patient = await make_individual(
            session, identifier="PATIENT-9", center=refs["center"], system_id="ISB_H999999"
        )
        await make_sample(
            session,
            individual=patient,
            identifier="ODD",
            category="NORMAL",
            system_id="ISB_H999999_T01",
        )
        before = await counts(session)
        rows = [row(n=1), row(n=9)]
        response = await upload(client, workbook(rows))
        pk = response.json()["pk"]
        clash = await client.post(f"{PREFIX}/submissions/process/{pk}", json={"commit": True})
        assert_problem(clash, 409)
        assert await counts(session) == before
        assert (await client.get(f"{PREFIX}/submissions/{pk}")).json()["processed"] is None


async def _project(client: httpx.AsyncClient, title: str) -> Any:
    response = await client.post(f"{PREFIX}/projects", json={"title": title})
    assert response.status_code == 201
    return response.json()


# Custom fields defined through the API, one per object of the form and per rule.
DEFINITIONS = [
    ("Individual", "age_at_diagnosis", {"type": "integer"}, "Age at diagnosis"),
    ("isabl_api.Sample", "site", {"type": "string", "choices": ["blood", "marrow"]}, None),
    ("aliquot", "volume", {"type": "number"}, "Volume (ml)"),
    ("Experiment", "pooled", {"type": "boolean"}, None),
]
CUSTOM = ["individual.age_at_diagnosis", "sample.site", "aliquot.volume", "experiment.pooled"]


@pytest.fixture
async def definitions(client: httpx.AsyncClient) -> None:
    """The custom fields of `DEFINITIONS`, created over HTTP."""
    for model, name, configuration, verbose in DEFINITIONS:
        body = {"model": model, "field_name": name, "configuration": configuration}
        response = await client.post(
            f"{PREFIX}/custom_fields", json=body | {"verbose_name": verbose}
        )
        assert response.status_code == 201, response.text


class TestCustomFields:
    async def test_the_template_has_a_column_per_custom_field(
        self, client: httpx.AsyncClient, refs: dict[str, Any], definitions: None
    ) -> None:
        response = await client.get(f"{PREFIX}/submissions/download")
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        sheet = book.worksheets[0]
        header = [cell.value for cell in sheet[1]]
        assert header == HEADER + CUSTOM
        comments = {cell.value: cell.comment.text for cell in sheet[1]}
        assert "Age at diagnosis (integer)" in comments["individual.age_at_diagnosis"]
        assert "site (string)" in comments["sample.site"]
        letter = openpyxl.utils.get_column_letter(header.index("sample.site") + 1)
        site = [c.value for c in book["choices"][letter] if c.value is not None]
        assert site == ["sample.site", "blood", "marrow"]
        validated = {str(rng) for v in sheet.data_validations.dataValidation for rng in v.sqref}
        assert any(rng.startswith(letter) for rng in validated)
        # The example row, custom cells blank, still goes through.
        report = await submit(client, response.content, commit=False)
        assert report["status"] == "valid", report

    async def test_a_dry_run_reports_bad_custom_values(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        refs: dict[str, Any],
        definitions: None,
    ) -> None:
        bad = {
            "individual.age_at_diagnosis": "old",
            "sample.site": "skin",
            "aliquot.volume": "a lot",
            "experiment.pooled": "perhaps",
        }
        rows = [row(n=1) | bad, row(n=2, **{"sample.site": "blood"})]
        rows.append(row(n=2, experiment_identifier="PATIENT-2-T-WGS2", **{"sample.site": "marrow"}))
        report = await submit(client, workbook(rows, HEADER + CUSTOM), commit=False)
        assert report["status"] == "invalid"
        messages = {(e["row"], e["column"]): e["message"] for e in report["errors"]}
        assert set(messages) == {(2, column) for column in CUSTOM} | {(4, "sample.site")}
        assert messages[(2, "sample.site")] == "must be one of ['blood', 'marrow']"
        assert messages[(2, "experiment.pooled")] == "must be of type boolean"
        assert "another sample.site" in messages[(4, "sample.site")]
        assert await counts(session) == dict.fromkeys(MODELS, 0)

    async def test_a_commit_stores_good_values(
        self, client: httpx.AsyncClient, refs: dict[str, Any], definitions: None
    ) -> None:
        good = {
            "individual.age_at_diagnosis": 61,
            "sample.site": "Marrow".lower(),
            "aliquot.volume": "2.5",
            "experiment.pooled": True,
        }
        # The second row's blanks take the first row's values; it adds none of its own.
        rows = [row(n=1) | good, row(n=1, experiment_identifier="PATIENT-1-T-WGS2")]
        report = await submit(client, workbook(rows, HEADER + CUSTOM), commit=True)
        assert report["status"] == "committed", report
        stored = {}
        for level in MODELS:
            body = (await client.get(f"{PREFIX}/{level}")).json()
            stored[level] = [obj["custom_fields"] for obj in body["results"]]
        assert stored == {
            "individuals": [{"age_at_diagnosis": 61}],
            "samples": [{"site": "marrow"}],
            "aliquots": [{"volume": 2.5}],
            "experiments": [{"pooled": True}, {}],
        }
