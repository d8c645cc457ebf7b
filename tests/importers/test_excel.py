"""Workbooks read as plain rows (no database): values and flags as stored, merged ranges
found in any chunking of the sheet's XML, and memory that does not grow with the rows."""

import datetime as dt
import io
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from labapi.importers import excel
from labapi.importers.excel import Cell, WorkbookError, check_workbook, open_sheet


def save(tmp_path: Path, book: openpyxl.Workbook, name: str = "book.xlsx") -> Path:
    """Write a workbook to a file."""
    path = tmp_path / name
    book.save(path)
    return path


def sheet_with(rows: list[list[object]]) -> openpyxl.Workbook:
    """A workbook whose first sheet holds `rows`."""
    book = openpyxl.Workbook()
    for values in rows:
        book.active.append(values)
    return book


class TestRows:
    def test_values_and_flags_as_stored(self, tmp_path: Path) -> None:
        book = sheet_with(
            [
                ["a", "b", "c", "d"],
                ["  text  ", 12, 12.0, dt.datetime(2024, 3, 12)],
                [],
                [None, "=1+1", "", True],
            ]
        )
        book.create_sheet("second").append(["ignored"])
        with open_sheet(save(tmp_path, book)) as sheet:
            rows = list(sheet.rows())
        assert [row.number for row in rows] == [1, 2, 4]
        header, values, last = (row.cells for row in rows)
        assert [cell.value for cell in header] == ["a", "b", "c", "d"]
        assert values[0] == Cell("text")
        assert values[1].value == 12
        assert values[3].date
        assert not values[0].date
        assert last[0] == Cell(None)
        assert last[1].formula
        assert last[1].value == "=1+1"
        assert last[2] == Cell(None)  # blank text is blank
        assert last[3].value is True

    def test_trailing_blanks_are_dropped(self, tmp_path: Path) -> None:
        book = sheet_with([["a", None, None], ["b", "c", None]])
        book.active["F9"] = None
        with open_sheet(save(tmp_path, book)) as sheet:
            assert [len(row.cells) for row in sheet.rows()] == [1, 2]

    @pytest.mark.parametrize("chunk", [16, 64, 1024 * 1024])
    def test_merged_ranges_whatever_the_chunking(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
    ) -> None:
        book = sheet_with([["a", "b", "c"]] + [[n, n, n] for n in range(50)])
        for ref in ("A2:A4", "B10:C12", "C40:C41"):
            book.active.merge_cells(ref)
        monkeypatch.setattr(excel, "SCAN_CHUNK", chunk)
        with open_sheet(save(tmp_path, book)) as sheet:
            assert sorted(sheet.merged_ranges()) == ["A2:A4", "B10:C12", "C40:C41"]

    def test_range_bounds(self) -> None:
        assert excel.range_bounds("B2:C4") == (2, 2, 3, 4)
        assert excel.range_bounds("D7") == (4, 7, 4, 7)

    @pytest.mark.parametrize(
        "content", [b"", b"not a workbook", b"PK\x03\x04broken", b"a,b\n1,2\n"]
    )
    def test_not_a_workbook(self, tmp_path: Path, content: bytes) -> None:
        path = tmp_path / "bad.xlsx"
        path.write_bytes(content)
        with pytest.raises(WorkbookError):
            check_workbook(path)

    def test_a_zip_bomb_is_refused_before_it_is_read(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = save(tmp_path, sheet_with([["a"], ["b"]]))
        # openpyxl writes inline strings; Excel keeps them in a table like this one.
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 20 + "</sst>")
        assert check_workbook(path) == "Sheet"
        monkeypatch.setattr(excel, "MAX_SHARED_STRINGS_BYTES", 100)
        with pytest.raises(WorkbookError, match="uncompressed"):
            check_workbook(path)
        monkeypatch.setattr(excel, "MAX_SHARED_STRINGS_BYTES", 10**9)
        monkeypatch.setattr(excel, "MAX_INFLATED_BYTES", 1000)
        with pytest.raises(WorkbookError, match="uncompressed"):
            check_workbook(path)

    def test_memory_does_not_grow_with_the_rows(self, tmp_path: Path) -> None:
        def peak(rows: int) -> int:
            book = sheet_with([[f"id-{n}", "HUMAN", n, "x" * 40] for n in range(rows)])
            path = save(tmp_path, book, f"{rows}.xlsx")
            tracemalloc.start()
            try:
                with open_sheet(path) as sheet:
                    count = sum(1 for _ in sheet.rows())
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
                assert count == rows

        small, large = peak(300), peak(3000)
        # Ten times the rows, about the same peak: rows are streamed, never all held
        # (a full load holds every cell: its peak grows tenfold).
        assert large < small * 1.5 + 256 * 1024, (small, large)


class TestTemplate:
    def test_build_and_read_back(self, tmp_path: Path) -> None:
        columns = [
            excel.TemplateColumn("name_identifier", "Who.", "P-1", required=True),
            excel.TemplateColumn("kind", "What.", "B", choices=["A", "B"]),
        ]
        content = excel.build_template(columns, sheet_title="form", notes=["Fill it in."])
        book = openpyxl.load_workbook(io.BytesIO(content))
        assert book.sheetnames == ["form", "choices", "notes"]
        sheet = book["form"]
        assert [c.value for c in sheet[1]] == ["name_identifier", "kind"]
        assert [c.value for c in sheet[2]] == ["P-1", "B"]
        assert sheet["A1"].comment.text == "Who. Required."
        assert sheet["B1"].comment.text == "What. Optional."
        (validation,) = sheet.data_validations.dataValidation
        assert validation.formula1 == "=choices!$B$2:$B$3"
        assert str(validation.sqref) == f"B2:B{excel.TEMPLATE_ROWS + 1}"
