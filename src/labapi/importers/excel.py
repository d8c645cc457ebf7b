"""Excel workbooks, both ways, without a database: the first sheet of an uploaded `.xlsx`
read as plain rows (openpyxl read-only mode, so memory stays flat whatever the row count),
and a template workbook written from column descriptions.

Reading never interprets a value beyond what Excel stored: each cell comes back as its
value with two flags, `formula` and `date`, for the caller to refuse or accept.
"""

import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation


class WorkbookError(Exception):
    """The file is not a workbook openpyxl can read (not an xlsx, damaged, encrypted)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as stored: its value (stripped text, None when blank) and how it was made."""

    value: Any
    formula: bool = False
    date: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """A non-blank row of the sheet: its 1-based number and its cells, column A first."""

    number: int
    cells: tuple[Cell, ...]


def _cell(raw: Any) -> Cell:
    value = getattr(raw, "value", None)
    if isinstance(value, str):
        value = value.strip() or None
    formula = getattr(raw, "data_type", None) == "f"
    return Cell(value, formula=formula, date=bool(getattr(raw, "is_date", False)))


# Read-only mode streams the sheets but loads the shared strings table whole: a small
# upload that inflates to gigabytes (a zip bomb) is refused before openpyxl sees it.
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
MAX_INFLATED_BYTES = 1024 * 1024 * 1024


def _check_inflated(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    total = sum(member.file_size for member in members)
    strings = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    if total > MAX_INFLATED_BYTES or strings > MAX_SHARED_STRINGS_BYTES:
        raise WorkbookError("too large once uncompressed")


def _open(path: Path) -> Any:
    try:
        _check_inflated(path)
        # openpyxl warns about workbook parts it drops (extensions, styles): not our
        # business, and the test suite turns warnings into errors.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookError(f"not an Excel .xlsx workbook ({type(exc).__name__})") from None


def check_workbook(path: Path) -> str:
    """The title of the first sheet; WorkbookError when the file is no readable xlsx."""
    with open_sheet(path) as sheet:
        return sheet.title


# A merged range in the sheet's XML (after <sheetData>): `<mergeCell ref="B2:B4"/>`, the
# element name possibly prefixed. Cell text cannot hold a raw `<`, so no false match.
MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z0-9:$]+)\"")
SCAN_CHUNK = 1024 * 1024


class Sheet:
    """The first sheet of an open workbook, read in streaming mode."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.sheet = workbook.worksheets[0] if workbook.worksheets else None
        self.title = str(self.sheet.title) if self.sheet is not None else ""

    def rows(self) -> Iterator[Row]:
        """Every non-blank row, streamed; trailing blank cells dropped."""
        if self.sheet is None:
            return
        # A producer may write a wrong <dimension>; read-only mode would trust it.
        self.sheet.reset_dimensions()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, raw_cells in enumerate(self.sheet.iter_rows(), start=1):
                cells = [_cell(raw) for raw in raw_cells]
                while cells and cells[-1].value is None:
                    cells.pop()
                if cells:
                    # Read-only cells know their row; EmptyCell padding does not.
                    actual = getattr(raw_cells[0], "row", None) or number
                    yield Row(actual, tuple(cells))

    def merged_ranges(self) -> list[str]:
        """The merged ranges (`"B2:B4"`), which read-only mode does not see: the sheet's
        XML is scanned for `<mergeCell>` elements, a chunk at a time (a byte search, far
        faster than parsing the XML again)."""
        if self.sheet is None:
            return []
        found: list[str] = []
        tail = b""
        # `_get_source` is openpyxl's own handle on the sheet's XML inside the archive.
        with self.sheet._get_source() as source:
            while chunk := source.read(SCAN_CHUNK):
                data = tail + chunk
                last = 0
                for match in MERGE_CELL.finditer(data):
                    found.append(match.group(1).decode().replace("$", ""))
                    last = match.end()
                # Keep what could be the start of an element cut by the chunk's end.
                tail = data[max(last, len(data) - 256) :]
        return found


@contextmanager
def open_sheet(path: Path) -> Iterator[Sheet]:
    """The first sheet of the workbook at `path`; WorkbookError when it is no xlsx."""
    workbook = _open(path)
    try:
        yield Sheet(workbook)
    finally:
        workbook.close()


def range_bounds(ref: str) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row), 1-based, of a range (`"B2:C4"`)."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    first_col, first_row = int(min_col or 1), int(min_row or 1)
    return first_col, first_row, int(max_col or first_col), int(max_row or first_row)


# ------------------------------------------------------------------ templates
@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template: header, comment, allowed values and the example's value."""

    header: str
    comment: str
    example: Any = None
    choices: Sequence[str] = ()
    required: bool = False
    width: int = 18
    extra: dict[str, Any] = field(default_factory=dict)


TEMPLATE_ROWS = 10000  # data validations cover this many rows below the header
_SAFE_SHEET = re.compile(r"[^A-Za-z0-9_]")


def build_template(
    columns: Sequence[TemplateColumn], *, sheet_title: str, notes: Sequence[str] = ()
) -> bytes:
    """An `.xlsx`: the first sheet has one header row (a comment on each header, required
    headers in bold) and one example row; columns with choices get a drop-down list fed
    from a hidden `choices` sheet (no length limit, unlike inline lists); a `notes` sheet
    says how to fill it in."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _SAFE_SHEET.sub("_", sheet_title)[:31] or "submission"
    choices = workbook.create_sheet("choices")
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index, value=column.header)
        header.font = Font(bold=column.required)
        if column.required:
            header.fill = required_fill
        text = column.comment + (" Required." if column.required else " Optional.")
        header.comment = Comment(text, "labapi", width=320, height=140)
        example = sheet.cell(row=2, column=index, value=column.example)
        if isinstance(column.example, str):
            # Text stays text: Excel would turn "3-12" into a date.
            example.number_format = "@"
        sheet.column_dimensions[letter].width = column.width
        if column.choices:
            choices.cell(row=1, column=index, value=column.header)
            for row, choice in enumerate(column.choices, start=2):
                choices.cell(row=row, column=index, value=choice)
            last = len(column.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"=choices!${letter}$2:${letter}${last}",
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle=f"Invalid {column.header}",
                error=f"Pick a {column.header} from the list.",
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    choices.sheet_state = "hidden"
    if notes:
        notes_sheet = workbook.create_sheet("notes")
        notes_sheet.column_dimensions["A"].width = 120
        for row, line in enumerate(notes, start=1):
            notes_sheet.cell(row=row, column=1, value=line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
