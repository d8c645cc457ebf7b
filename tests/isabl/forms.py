"""Submission forms for the tests: workbooks written with openpyxl as a lab would fill
them, the reference objects they name, and the HTTP steps of a submission."""

import io
from collections.abc import Sequence
from typing import Any

import httpx
import openpyxl
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.importers.submission import COLUMNS
from tests.isabl.cases import PREFIX
from tests.isabl.factories import (
    make_center,
    make_disease,
    make_platform,
    make_project,
    make_technique,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [column.key for column in COLUMNS]


def row(**values: Any) -> dict[str, Any]:
    """A complete, valid form row (one experiment), with `values` changed."""
    n = values.pop("n", 1)
    return {
        "individual_identifier": f"PATIENT-{n}",
        "species": "HUMAN",
        "center": "MSK",
        "gender": "FEMALE",
        "birth_year": 1970,
        "sample_identifier": f"PATIENT-{n}-T",
        "category": "TUMOR",
        "disease": "AML",
        "collection_days": 100,
        "aliquot_identifier": f"PATIENT-{n}-T-A1",
        "experiment_identifier": f"PATIENT-{n}-T-WGS",
        "technique": "Whole Genome",
        "platform": "ILLUMINA HISEQ 2500",
        "projects": None,
        "experiment_notes": None,
    } | values


def workbook(
    rows: Sequence[dict[str, Any] | Sequence[Any]],
    header: Sequence[str] = HEADER,
    *,
    merge: Sequence[str] = (),
    edit: Any = None,
) -> bytes:
    """An .xlsx whose first sheet has `header` and `rows` (dicts by header, or lists)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for values in rows:
        sheet.append([values.get(key) for key in header] if isinstance(values, dict) else values)
    for ref in merge:
        sheet.merge_cells(ref)
    if edit is not None:
        edit(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def make_references(session: AsyncSession) -> dict[str, Any]:
    """The center, technique, platform, disease and project the forms name."""
    return {
        "center": await make_center(session, name="Memorial Sloan Kettering", acronym="MSK"),
        "technique": await make_technique(session, name="Whole Genome", method="WG"),
        "rna": await make_technique(session, name="Transcriptome", method="TR"),
        "platform": await make_platform(
            session, manufacturer="ILLUMINA", system="HISEQ", version="2500"
        ),
        "disease": await make_disease(session, name="Acute Myeloid Leukemia", acronym="AML"),
        "project": await make_project(session, title="Relapse"),
    }


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    *,
    projects: Sequence[int] = (),
    name: str = "form.xlsx",
    path: str = f"{PREFIX}/submissions",
) -> httpx.Response:
    """POST a form as the multipart file `submission_form`."""
    data: dict[str, Any] = {"description": "A batch"}
    if projects:
        data["projects"] = [str(pk) for pk in projects]
    return await client.post(path, data=data, files={"submission_form": (name, content, XLSX)})


async def process(client: httpx.AsyncClient, pk: int, *, commit: bool, slash: str = "") -> Any:
    """POST `submissions/process/<pk>`; the submission's `data` (the report)."""
    response = await client.post(
        f"{PREFIX}/submissions/process/{pk}{slash}", json={"commit": commit}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def submit(
    client: httpx.AsyncClient, content: bytes, *, commit: bool, projects: Sequence[int] = ()
) -> Any:
    """Upload a form and process it; the report."""
    response = await upload(client, content, projects=projects)
    assert response.status_code == 201, response.text
    return await process(client, response.json()["pk"], commit=commit)


def cells(report: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(row, column) of every reported problem."""
    return [(error["row"], error["column"]) for error in report["errors"]]
