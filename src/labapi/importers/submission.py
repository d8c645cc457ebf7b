"""Submission forms to Isabl objects (SPEC §5, STYLE §9 `importers/`).

1. `COLUMNS` is the form: one row per experiment, naming its individual, sample and aliquot.
2. `parse_form` (no database, run in a thread) reads the rows that `importers.excel`
   streams, checks every cell against the columns, the Create schemas' limits and the
   stored centers, techniques, platforms, diseases and projects (`Lookups`), and keeps
   every problem as `{row, column, value, message}`.
3. `plan` finds which individuals, samples, aliquots and experiments exist already, by the
   services' unique keys (`get_or_create_key`); `apply` creates the others in one savepoint,
   all or none, in bulk statements, with the services' system ids.

`process` runs the three steps and stores the report in the submission's `data`; with
`commit=False` it writes nothing else.
"""

import datetime as dt
import difflib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from labapi.core.errors import Conflict
from labapi.core.models import enum_names, utcnow
from labapi.core.settings import Settings
from labapi.importers.excel import (
    Cell,
    Row,
    Sheet,
    TemplateColumn,
    build_template,
    open_sheet,
    range_bounds,
)
from labapi.isabl import schemas as s
from labapi.isabl.models import (
    Aliquot,
    Center,
    CustomField,
    Disease,
    Experiment,
    Gender,
    Individual,
    Platform,
    Project,
    Sample,
    SampleCategory,
    Species,
    Submission,
    Technique,
    experiment_project,
)
from labapi.isabl.services import (
    CUSTOM_FIELD_APP,
    _number,
    aliquot_system_id,
    custom_value_problem,
    experiment_system_id,
    individual_system_id,
    next_number,
    sample_system_id,
)

CHUNK = 500  # values per IN (...) list: far below SQLite's and asyncpg's bind limits
LEVELS = ("individuals", "samples", "aliquots", "experiments")


# ------------------------------------------------------------------ the form
@dataclass(frozen=True)
class Column:
    """One column of the form: where its value goes and how a cell is read."""

    key: str
    target: tuple[str, str]  # (object, field): ("individual", "identifier")
    comment: str
    required: bool = False
    kind: str = "text"  # text | integer | choice | lookup | projects
    choices: tuple[str, ...] = ()
    lookup: str = ""
    limit: tuple[type[BaseModel], str] | None = None  # the schema field whose limits apply
    example: Any = None
    # A custom field's definition (`kind="custom"`); a dict, so kept out of eq and hash.
    configuration: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


COLUMNS: tuple[Column, ...] = (
    Column(
        "individual_identifier",
        ("individual", "identifier"),
        "Identifier of the individual (patient, mouse) at its center; rows with the same "
        "species, center and identifier are one individual.",
        required=True,
        limit=(s.IndividualCreate, "identifier"),
        example="PATIENT-1",
    ),
    Column(
        "species",
        ("individual", "species"),
        "Species of the individual.",
        required=True,
        kind="choice",
        choices=tuple(enum_names(Species)),
        example="HUMAN",
    ),
    Column(
        "center",
        ("individual", "center_id"),
        "Center of the individual: the acronym, name or slug of a center known to labapi.",
        required=True,
        kind="lookup",
        lookup="center",
    ),
    Column(
        "gender",
        ("individual", "gender"),
        "Gender of the individual (UNKNOWN when blank).",
        kind="choice",
        choices=tuple(enum_names(Gender)),
        example="FEMALE",
    ),
    Column(
        "birth_year",
        ("individual", "birth_year"),
        "Year of birth, a whole number such as 1970 (never a full date of birth).",
        kind="integer",
        limit=(s.IndividualWrite, "birth_year"),
        example=1970,
    ),
    Column(
        "sample_identifier",
        ("sample", "identifier"),
        "Identifier of the sample; rows with the same individual, category and sample "
        "identifier are one sample.",
        required=True,
        limit=(s.SampleCreate, "identifier"),
        example="PATIENT-1-T",
    ),
    Column(
        "category",
        ("sample", "category"),
        "Sample category.",
        required=True,
        kind="choice",
        choices=tuple(enum_names(SampleCategory)),
        example="TUMOR",
    ),
    Column(
        "disease",
        ("sample", "disease_id"),
        "Disease of the sample: the acronym, name or slug of a disease known to labapi.",
        kind="lookup",
        lookup="disease",
    ),
    Column(
        "collection_days",
        ("sample", "collection_days"),
        "Days since birth when the sample was collected, a whole number.",
        kind="integer",
        limit=(s.SampleWrite, "collection_days"),
    ),
    Column(
        "aliquot_identifier",
        ("aliquot", "identifier"),
        "Identifier of the aliquot of the sample the experiment used; blank for none.",
        limit=(s.AliquotCreate, "identifier"),
        example="PATIENT-1-T-A1",
    ),
    Column(
        "experiment_identifier",
        ("experiment", "identifier"),
        "Identifier of the experiment (run, library); one row per experiment.",
        required=True,
        limit=(s.ExperimentWrite, "identifier"),
        example="PATIENT-1-T-WGS",
    ),
    Column(
        "technique",
        ("experiment", "technique_id"),
        "Technique of the experiment: the name or slug of a technique known to labapi.",
        required=True,
        kind="lookup",
        lookup="technique",
    ),
    Column(
        "platform",
        ("experiment", "platform_id"),
        "Platform of the experiment: its slug, or 'MANUFACTURER SYSTEM VERSION'.",
        kind="lookup",
        lookup="platform",
    ),
    Column(
        "projects",
        ("experiment", "projects"),
        "More projects for this experiment, besides the submission's own: primary keys or "
        "titles, separated by commas.",
        kind="projects",
    ),
    Column(
        "experiment_notes",
        ("experiment", "notes"),
        "Free text notes on the experiment.",
        example="Example row: replace it with your own.",
    ),
)


# Where each model's custom fields go in a row (the model as `CustomField.model` names it).
CUSTOM_TARGETS = {
    f"{CUSTOM_FIELD_APP}.Individual": "individual",
    f"{CUSTOM_FIELD_APP}.Sample": "sample",
    f"{CUSTOM_FIELD_APP}.Aliquot": "aliquot",
    f"{CUSTOM_FIELD_APP}.Experiment": "experiment",
}


def custom_field_columns(definitions: Iterable[CustomField]) -> tuple[Column, ...]:
    """One `<object>.<field_name>` column per custom field of individuals, samples,
    aliquots and experiments, in that order; choices become a drop-down."""
    order = list(CUSTOM_TARGETS)
    columns = []
    for definition in sorted(definitions, key=lambda d: (order.index(d.model), d.id)):
        target = CUSTOM_TARGETS[definition.model]
        configuration = dict(definition.configuration or {})
        kind = configuration.get("type")
        choices = configuration.get("choices")
        comment = (
            f"Custom field of the {target}: {definition.verbose_name or definition.field_name}"
            + (f" ({kind})." if kind else ".")
        )
        columns.append(
            Column(
                f"{target}.{definition.field_name}",
                (target, f"custom_fields.{definition.field_name}"),
                comment,
                kind="custom",
                choices=tuple(str(c) for c in choices) if isinstance(choices, list) else (),
                configuration=configuration,
            )
        )
    return tuple(columns)


def form_columns(lookups: "Lookups") -> tuple[Column, ...]:
    """Every column of the form, the custom fields defined when `lookups` were read
    included."""
    return (*COLUMNS, *lookups.custom)


NOTES = (
    "How to fill in this form",
    "One row per experiment. Rows naming the same individual (species, center, "
    "individual_identifier) or sample (plus category and sample_identifier) share it.",
    "Yellow, bold headers are required; hover a header to read its comment.",
    "Centers, techniques, platforms, diseases and projects must exist in labapi already; "
    "the drop-downs list the ones known when the template was downloaded.",
    "Type values, not formulas; do not merge cells; keep identifiers as text (Excel may "
    "turn '3-12' into a date).",
    "Upload with POST /api/v1/submissions (multipart: submission_form, description, "
    'projects), check with POST /api/v1/submissions/process/<id> {"commit": false}, '
    'then commit with {"commit": true}. Submitting the same rows again creates nothing.',
)


# ------------------------------------------------------------------ problems
@dataclass
class Problems:
    """Every bad cell, up to `limit` of them kept in full; the rest only counted."""

    limit: int
    items: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, row: int | None, column: str | None, value: Any, message: str) -> None:
        """One problem: `row` is the sheet's row number (1 is the header)."""
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(
                {"row": row, "column": column, "value": _json_value(value), "message": message}
            )


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class CellError(Exception):
    """A cell that cannot be read as its column says."""


# ------------------------------------------------------------------ lookups
@dataclass(frozen=True)
class Lookup:
    """Stored objects a cell may name: lower-cased names to pks, and one display name per
    object (drop-downs, suggestions)."""

    what: str
    names: dict[str, frozenset[int]]
    display: dict[str, str]
    choices: tuple[str, ...]

    @classmethod
    def build(cls, what: str, rows: Iterable[Sequence[Any]]) -> "Lookup":
        """From (pk, name, other name, …) rows; each object is shown by its first name
        that no other object shares."""
        rows = [tuple(row) for row in rows]
        names: dict[str, set[int]] = defaultdict(set)
        display: dict[str, str] = {}
        for pk, *alternatives in rows:
            for name in alternatives:
                if name not in (None, ""):
                    names[str(name).lower()].add(pk)
                    display.setdefault(str(name).lower(), str(name))
        choices = []
        for pk, *alternatives in rows:
            unique = [a for a in alternatives if a and names[str(a).lower()] == {pk}]
            if unique:
                choices.append(str(unique[0]))
        return cls(what, {k: frozenset(v) for k, v in names.items()}, display, tuple(choices))

    def resolve(self, value: str) -> int:
        """The pk the value names; CellError when it names none or several."""
        found = self.names.get(value.lower(), frozenset())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise CellError(f"{value!r} names {len(found)} {self.what}s; use a unique name")
        raise CellError(f"unknown {self.what} {value!r}" + _suggest(value, self.display))


def _suggest(value: str, display: dict[str, str]) -> str:
    close = difflib.get_close_matches(value.lower(), list(display), n=1, cutoff=0.6)
    return f"; did you mean {display[close[0]]!r}?" if close else ""


@dataclass(frozen=True)
class Lookups:
    """The stored objects a form may name, read once per request."""

    by_kind: dict[str, Lookup]
    methods: dict[int, str]  # technique pk -> method
    custom: tuple[Column, ...] = ()  # the custom field columns


async def load_lookups(session: AsyncSession) -> Lookups:
    """Centers, diseases, techniques, platforms and projects, by every name they go by,
    and the custom fields of the form's objects."""

    async def rows(*columns: Any) -> list[Any]:
        return list((await session.execute(select(*columns).order_by(columns[0]))).all())

    techniques = await rows(Technique.id, Technique.name, Technique.slug, Technique.method)
    platforms = await rows(
        Platform.id, Platform.slug, Platform.manufacturer, Platform.system, Platform.version
    )
    projects = await rows(Project.id, Project.title)
    by_kind = {
        "center": Lookup.build(
            "center", await rows(Center.id, Center.acronym, Center.name, Center.slug)
        ),
        "disease": Lookup.build(
            "disease", await rows(Disease.id, Disease.acronym, Disease.name, Disease.slug)
        ),
        "technique": Lookup.build(
            "technique", [(pk, name, slug) for pk, name, slug, _ in techniques]
        ),
        "platform": Lookup.build(
            "platform",
            [
                (pk, slug, f"{maker} {system} {version}")
                for pk, slug, maker, system, version in platforms
            ],
        ),
        "project": Lookup.build("project", [(pk, str(pk), title) for pk, title in projects]),
    }
    definitions = await session.scalars(
        select(CustomField).where(CustomField.model.in_(list(CUSTOM_TARGETS)))
    )
    return Lookups(
        by_kind,
        {pk: str(method) for pk, _, _, method in techniques},
        custom_field_columns(definitions),
    )


# ------------------------------------------------------------------ cells
DATE_TEXT = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")


@cache
def _adapter(schema: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = schema.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])


def _limited(column: Column, value: Any) -> Any:
    """The value checked against the limits of its Create schema field."""
    if column.limit is None or value is None:
        return value
    try:
        return _adapter(*column.limit).validate_python(value)
    except ValidationError as exc:
        raise CellError(exc.errors(include_url=False)[0]["msg"]) from None


def read_text(cell: Cell) -> str | None:
    """Text as typed; whole numbers become their digits; a date is refused."""
    value = cell.value
    if value is None:
        return None
    if cell.date or isinstance(value, dt.datetime | dt.date | dt.time):
        raise CellError(
            "Excel stored a date here; format the column as Text and type the value again"
        )
    if isinstance(value, bool):
        raise CellError("expected text, not TRUE/FALSE")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_integer(cell: Cell) -> int | None:
    """A whole number, typed as a number or as digits; dates are refused."""
    value = cell.value
    if value is None:
        return None
    if cell.date or isinstance(value, dt.datetime | dt.date | dt.time):
        raise CellError("expected a whole number, got a date")
    if isinstance(value, bool):
        raise CellError("expected a whole number, not TRUE/FALSE")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError("expected a whole number")
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if DATE_TEXT.match(text):
        raise CellError("expected a whole number, got a date typed as text")
    raise CellError("expected a whole number")


def read_choice(cell: Cell, choices: Sequence[str], what: str) -> str | None:
    """One of `choices`, in any letter case; a typo gets the closest member suggested."""
    text = read_text(cell)
    if text is None:
        return None
    for choice in choices:
        if choice.lower() == text.lower():
            return choice
    suggestion = _suggest(text, {choice.lower(): choice for choice in choices})
    raise CellError(f"unknown {what} {text!r}{suggestion} (one of {', '.join(choices)})")


def read_projects(cell: Cell, lookup: Lookup) -> tuple[int, ...]:
    """Projects by pk or title, comma separated."""
    text = read_text(cell)
    if text is None:
        return ()
    parts = [part.strip() for part in re.split(r"[,;]", text) if part.strip()]
    return tuple(dict.fromkeys(lookup.resolve(part) for part in parts))


def read_number(cell: Cell) -> int | float | None:
    """A number, typed as one or as text; whole numbers become ints; dates are refused."""
    value = cell.value
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise CellError("expected a number") from None
    if cell.date or not isinstance(value, int | float) or isinstance(value, bool):
        raise CellError("expected a number")
    return int(value) if isinstance(value, float) and value.is_integer() else value


BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def read_custom(cell: Cell, configuration: dict[str, Any]) -> Any:
    """A custom field's value as its configured type reads it, then checked by the same
    rule the API applies on writes (`custom_value_problem`)."""
    kind = configuration.get("type")
    value: Any
    if kind == "integer":
        value = read_integer(cell)
    elif kind == "number":
        value = read_number(cell)
    elif kind == "boolean":
        # Excel stores TRUE/FALSE as booleans; typed text is read too, and anything else
        # is left for the type check to refuse.
        value = cell.value
        if isinstance(value, str) and value.strip().lower() in BOOLEANS:
            value = BOOLEANS[value.strip().lower()]
    elif kind in ("object", "array"):
        text = read_text(cell)
        try:
            value = None if text is None else json.loads(text)
        except ValueError:
            raise CellError(f"expected {kind} as JSON") from None
    elif kind == "string":
        value = read_text(cell)
    else:  # untyped: numbers stay numbers, so that numeric choices match
        value = cell.value if isinstance(cell.value, int | float) else read_text(cell)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
    problem = custom_value_problem(configuration, value)
    if problem:
        raise CellError(problem)
    return value


def read_cell(column: Column, cell: Cell, lookups: Lookups) -> Any:
    """The cell's value as its column means it (None when blank)."""
    if cell.formula:
        raise CellError("formulas are not allowed; paste the value instead (Paste Special, Values)")
    if column.kind == "integer":
        value: Any = read_integer(cell)
    elif column.kind == "choice":
        value = read_choice(cell, column.choices, column.key)
    elif column.kind == "lookup":
        text = read_text(cell)
        value = None if text is None else lookups.by_kind[column.lookup].resolve(text)
    elif column.kind == "projects":
        value = read_projects(cell, lookups.by_kind["project"])
    elif column.kind == "custom":
        value = read_custom(cell, column.configuration)
    else:
        value = read_text(cell)
    if column.required and value in (None, ()):
        raise CellError(f"{column.key} is required")
    return _limited(column, value)


# ------------------------------------------------------------------ rows
@dataclass(slots=True)
class Entry:
    """One valid row: the values of each object it names."""

    row: int
    individual: dict[str, Any]
    sample: dict[str, Any]
    aliquot: dict[str, Any]
    experiment: dict[str, Any]

    @property
    def individual_key(self) -> tuple[Any, ...]:
        """(species, center, identifier), as `Individual.get_or_create_key`."""
        i = self.individual
        return (i["species"], i["center_id"], i["identifier"])

    @property
    def sample_key(self) -> tuple[Any, ...]:
        """(individual, category, identifier)."""
        return (self.individual_key, self.sample["category"], self.sample["identifier"])

    @property
    def aliquot_key(self) -> tuple[Any, ...] | None:
        """(sample, identifier), None without an aliquot."""
        identifier = self.aliquot.get("identifier")
        return None if identifier is None else (self.sample_key, identifier)

    @property
    def experiment_key(self) -> tuple[Any, ...]:
        """(sample, aliquot, technique, identifier)."""
        e = self.experiment
        return (self.sample_key, self.aliquot_key, e["technique_id"], e["identifier"])


@dataclass
class Parsed:
    """What a form holds: its valid rows, every problem, and how many rows it had."""

    entries: list[Entry]
    problems: Problems
    rows: int = 0


def _header_key(value: Any) -> str:
    return re.sub(r"[\s-]+", "_", str(value).strip().lower())


def _map_header(header: Row, columns: Sequence[Column], problems: Problems) -> dict[int, Column]:
    """Sheet column index to form column; unknown, repeated and missing columns reported."""
    known = {_header_key(column.key): column for column in columns}
    mapped: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        if cell.value is None:
            continue
        key = _header_key(cell.value)
        column = known.get(key)
        if column is None:
            problems.add(
                header.number,
                str(cell.value),
                cell.value,
                f"unknown column {str(cell.value)!r}"
                + _suggest(key, {name: name for name in known})
                + "; remove it or download the template again",
            )
        elif key in seen:
            problems.add(header.number, key, cell.value, "this column appears twice")
        else:
            seen[key] = index
            mapped[index] = column
    for column in columns:
        if column.required and column.key not in seen:
            problems.add(header.number, column.key, None, f"the column {column.key!r} is missing")
    return mapped


def _merged_cells(
    ranges: list[str], mapped: dict[int, Column], problems: Problems
) -> set[tuple[int, int]]:
    """Report each merged range once; the cells it hides (all but its first) are returned
    so that they are not reported again as blank."""
    hidden: set[tuple[int, int]] = set()
    for ref in ranges:
        first_col, first_row, last_col, last_row = range_bounds(ref)
        column = mapped.get(first_col - 1)
        problems.add(
            first_row,
            column.key if column else None,
            ref,
            f"merged cells ({ref}) are not allowed; unmerge them and fill every cell",
        )
        for row in range(first_row, last_row + 1):
            for col in range(first_col, last_col + 1):
                if (row, col) != (first_row, first_col):
                    hidden.add((row, col - 1))
    return hidden


def _parse_row(
    row: Row,
    mapped: dict[int, Column],
    lookups: Lookups,
    problems: Problems,
    hidden: set[tuple[int, int]],
) -> Entry | None:
    values: dict[str, dict[str, Any]] = {
        "individual": {},
        "sample": {},
        "aliquot": {},
        "experiment": {},
    }
    ok = True
    for index, column in mapped.items():
        cell = row.cells[index] if index < len(row.cells) else Cell(None)
        try:
            value = read_cell(column, cell, lookups)
        except CellError as exc:
            if (row.number, index) not in hidden:
                problems.add(row.number, column.key, cell.value, str(exc))
            ok = False
            continue
        target, name = column.target
        if name.startswith("custom_fields."):
            if value is not None:  # a blank cell sets no key
                values[target].setdefault("custom_fields", {})[name.split(".", 1)[1]] = value
        else:
            values[target][name] = value
    if not ok:
        return None
    return Entry(row.number, **values)


# The fields of an object that every row naming it must agree on (and its custom fields,
# one by one).
AGREE = {
    "individual": ("gender", "birth_year"),
    "sample": ("disease_id", "collection_days"),
    "aliquot": (),
}
FIELD_COLUMNS = {
    ("individual", "gender"): "gender",
    ("individual", "birth_year"): "birth_year",
    ("sample", "disease_id"): "disease",
    ("sample", "collection_days"): "collection_days",
}


def _disagreements(
    level: str, mine: dict[str, Any], theirs: dict[str, Any]
) -> list[tuple[str, Any]]:
    """(column, value) where `mine` contradicts `theirs`; `theirs` takes over what it
    lacks."""
    found = []
    pairs = [(mine, theirs, name, FIELD_COLUMNS[(level, name)]) for name in AGREE[level]]
    if mine.get("custom_fields"):
        custom = theirs.setdefault("custom_fields", {})
        pairs += [(mine["custom_fields"], custom, n, f"{level}.{n}") for n in mine["custom_fields"]]
    for source, target, name, column in pairs:
        if source.get(name) is None:
            continue
        if target.get(name) is None:
            target[name] = source[name]
        elif target[name] != source[name]:
            found.append((column, source[name]))
    return found


def _check_agreement(entries: list[Entry], problems: Problems) -> list[Entry]:
    """Rows naming one individual, sample or aliquot must not disagree about it, and no
    experiment may appear twice; the first row's values stand (blanks take them over)."""
    kept: list[Entry] = []
    first: dict[tuple[str, Any], Entry] = {}
    experiments: dict[Any, int] = {}
    for entry in entries:
        ok = True
        for level, key in (
            ("individual", entry.individual_key),
            ("sample", entry.sample_key),
            ("aliquot", entry.aliquot_key),
        ):
            if key is None:
                continue
            seen = first.setdefault((level, key), entry)
            if seen is entry:
                continue
            for column, value in _disagreements(level, getattr(entry, level), getattr(seen, level)):
                problems.add(
                    entry.row, column, value, f"row {seen.row} gives this {level} another {column}"
                )
                ok = False
        earlier = experiments.setdefault(entry.experiment_key, entry.row)
        if earlier != entry.row:
            problems.add(
                entry.row,
                "experiment_identifier",
                entry.experiment["identifier"],
                f"the same experiment as row {earlier}",
            )
            ok = False
        if ok:
            kept.append(entry)
    # Later rows share the first row's objects (and the values it gathered).
    for entry in kept:
        entry.individual = first[("individual", entry.individual_key)].individual
        entry.sample = first[("sample", entry.sample_key)].sample
        if entry.aliquot_key is not None:
            entry.aliquot = first[("aliquot", entry.aliquot_key)].aliquot
    return kept


def parse_form(path: Path, lookups: Lookups, *, max_rows: int, max_errors: int) -> Parsed:
    """Read and check every row of the form (pure: no database, safe in a thread)."""
    with open_sheet(path) as sheet:
        return _parse_sheet(sheet, lookups, max_rows=max_rows, max_errors=max_errors)


def _parse_sheet(sheet: Sheet, lookups: Lookups, *, max_rows: int, max_errors: int) -> Parsed:
    problems = Problems(max_errors)
    rows = sheet.rows()
    header = next(rows, None)
    if header is None:
        problems.add(None, None, None, "the first sheet is empty: keep the template's header row")
        return Parsed([], problems)
    mapped = _map_header(header, form_columns(lookups), problems)
    if problems.count:
        return Parsed([], problems)
    hidden = _merged_cells(sheet.merged_ranges(), mapped, problems)
    entries: list[Entry] = []
    count = 0
    for row in rows:
        count += 1
        if count > max_rows:
            problems.add(row.number, None, None, f"more than {max_rows} rows: split the form")
            return Parsed([], problems, count)
        entry = _parse_row(row, mapped, lookups, problems, hidden)
        if entry is not None:
            entries.append(entry)
    if count == 0:
        problems.add(None, None, None, "the form has a header but no rows")
    return Parsed(_check_agreement(entries, problems), problems, count)


# ------------------------------------------------------------------ planning
@dataclass
class Plan:
    """Which objects exist (key -> (pk, system id)) and the numbers in use per parent."""

    individuals: dict[Any, tuple[int, str]] = field(default_factory=dict)
    samples: dict[Any, tuple[int, str]] = field(default_factory=dict)
    aliquots: dict[Any, tuple[int, str]] = field(default_factory=dict)
    experiments: dict[Any, tuple[int, str]] = field(default_factory=dict)
    numbers: dict[Any, list[int]] = field(default_factory=lambda: defaultdict(list))

    def summary(self, entries: list[Entry]) -> dict[str, dict[str, int]]:
        """How many objects of each level the rows name that are new, and that exist."""
        keys: dict[str, set[Any]] = {level: set() for level in LEVELS}
        for entry in entries:
            keys["individuals"].add(entry.individual_key)
            keys["samples"].add(entry.sample_key)
            if entry.aliquot_key is not None:
                keys["aliquots"].add(entry.aliquot_key)
            keys["experiments"].add(entry.experiment_key)
        found = {level: getattr(self, level) for level in LEVELS}
        return {
            level: {
                "new": sum(1 for key in keys[level] if key not in found[level]),
                "existing": sum(1 for key in keys[level] if key in found[level]),
            }
            for level in LEVELS
        }


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def plan(session: AsyncSession, entries: list[Entry], lookups: Lookups) -> Plan:
    """Find the stored objects the rows name, level by level, with a few IN queries."""
    found = Plan()
    individual_keys = {entry.individual_key for entry in entries}
    for chunk in _chunks(key[2] for key in individual_keys):
        stmt = select(
            Individual.id,
            Individual.species,
            Individual.center_id,
            Individual.identifier,
            Individual.system_id,
        ).where(Individual.identifier.in_(chunk))
        for pk, species, center_id, identifier, system_id in await session.execute(stmt):
            key = (str(species), center_id, identifier)
            if key in individual_keys:
                found.individuals[key] = (pk, system_id)
    by_individual = {pk: key for key, (pk, _) in found.individuals.items()}
    for chunk in _chunks(by_individual):
        stmt = select(
            Sample.id, Sample.individual_id, Sample.category, Sample.identifier, Sample.system_id
        ).where(Sample.individual_id.in_(chunk))
        for pk, individual_id, category, identifier, system_id in await session.execute(stmt):
            found.samples[(by_individual[individual_id], str(category), identifier)] = (
                pk,
                system_id,
            )
            found.numbers[("sample", individual_id, str(category))].append(_number(system_id))
    by_sample = {pk: key for key, (pk, _) in found.samples.items()}
    aliquot_keys: dict[int, Any] = {}
    for chunk in _chunks(by_sample):
        stmt = select(Aliquot.id, Aliquot.sample_id, Aliquot.identifier, Aliquot.system_id).where(
            Aliquot.sample_id.in_(chunk)
        )
        for pk, sample_id, identifier, system_id in await session.execute(stmt):
            key = (by_sample[sample_id], identifier)
            found.aliquots[key] = (pk, system_id)
            aliquot_keys[pk] = key
            found.numbers[("aliquot", sample_id)].append(_number(system_id))
    for chunk in _chunks(by_sample):
        stmt = (
            select(
                Experiment.id,
                Experiment.sample_id,
                Experiment.aliquot_id,
                Experiment.technique_id,
                Experiment.identifier,
                Experiment.system_id,
                Technique.method,
            )
            .join(Technique, Technique.id == Experiment.technique_id)
            .where(Experiment.sample_id.in_(chunk))
        )
        rows = await session.execute(stmt)
        for pk, sample_id, aliquot_id, technique_id, identifier, system_id, method in rows:
            aliquot_key = None if aliquot_id is None else aliquot_keys.get(aliquot_id)
            key = (by_sample[sample_id], aliquot_key, technique_id, identifier)
            found.experiments[key] = (pk, system_id)
            found.numbers[("experiment", sample_id, aliquot_id, str(method))].append(
                _number(system_id)
            )
    return found


# ------------------------------------------------------------------ writing
class Numbering:
    """The next free sibling number per parent, as the services compute it one by one."""

    def __init__(self, used: dict[Any, list[int]]) -> None:
        self.used = used
        self.next: dict[Any, int] = {}

    def take(self, group: Any) -> int:
        """The number of the next new sibling in `group`."""
        n = self.next.get(group) or next_number(self.used.get(group, []))
        self.next[group] = n + 1
        return n


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows in bulk (batched INSERT … RETURNING); their pks in the rows' order."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list((await session.scalars(stmt, rows)).all())


async def apply(
    session: AsyncSession,
    entries: list[Entry],
    found: Plan,
    lookups: Lookups,
    *,
    submission: Submission,
    user: Any,
    prefix: str,
) -> None:
    """Create every object the plan did not find, parents first, with their system ids."""
    numbers = Numbering(found.numbers)
    common = {"created_by_id": getattr(user, "id", None)}
    made = {"submission_id": submission.id, **common}

    individuals = dict(found.individuals)
    new = [e for e in _first_per(entries, "individual_key") if e.individual_key not in individuals]
    rows = [
        {
            **made,
            "identifier": e.individual["identifier"],
            "species": Species(e.individual["species"]),
            "center_id": e.individual["center_id"],
            "gender": Gender(e.individual.get("gender") or Gender.UNKNOWN),
            "birth_year": e.individual.get("birth_year"),
            "custom_fields": e.individual.get("custom_fields") or {},
        }
        for e in new
    ]
    ids = await _insert(session, Individual, rows)
    updates = []
    for entry, pk in zip(new, ids, strict=True):
        system_id = individual_system_id(prefix, entry.individual["species"], pk)
        individuals[entry.individual_key] = (pk, system_id)
        updates.append({"id": pk, "system_id": system_id})
    if updates:
        await session.execute(update(Individual), updates)

    samples = dict(found.samples)
    new = [e for e in _first_per(entries, "sample_key") if e.sample_key not in samples]
    rows, keys = [], []
    for e in new:
        individual_id, individual_sid = individuals[e.individual_key]
        category = e.sample["category"]
        n = numbers.take(("sample", individual_id, category))
        system_id = sample_system_id(individual_sid, category, n)
        rows.append(
            {
                **made,
                "identifier": e.sample["identifier"],
                "category": SampleCategory(category),
                "individual_id": individual_id,
                "disease_id": e.sample.get("disease_id"),
                "collection_days": e.sample.get("collection_days"),
                "custom_fields": e.sample.get("custom_fields") or {},
                "system_id": system_id,
            }
        )
        keys.append((e.sample_key, system_id))
    for (key, system_id), pk in zip(keys, await _insert(session, Sample, rows), strict=True):
        samples[key] = (pk, system_id)

    aliquots = dict(found.aliquots)
    new = [
        e
        for e in _first_per(entries, "aliquot_key")
        if e.aliquot_key is not None and e.aliquot_key not in aliquots
    ]
    rows, keys = [], []
    for e in new:
        sample_id, sample_sid = samples[e.sample_key]
        system_id = aliquot_system_id(sample_sid, numbers.take(("aliquot", sample_id)))
        rows.append(
            {
                **common,
                "identifier": e.aliquot["identifier"],
                "sample_id": sample_id,
                "custom_fields": e.aliquot.get("custom_fields") or {},
                "system_id": system_id,
            }
        )
        keys.append((e.aliquot_key, system_id))
    for (key, system_id), pk in zip(keys, await _insert(session, Aliquot, rows), strict=True):
        aliquots[key] = (pk, system_id)

    new = [e for e in entries if e.experiment_key not in found.experiments]
    rows, project_sets = [], []
    shared = [project.id for project in submission.projects]
    for e in new:
        sample_id, sample_sid = samples[e.sample_key]
        aliquot_id, aliquot_sid = aliquots.get(e.aliquot_key, (None, None))
        method = lookups.methods[e.experiment["technique_id"]]
        n = numbers.take(("experiment", sample_id, aliquot_id, method))
        rows.append(
            {
                **made,
                "identifier": e.experiment["identifier"],
                "sample_id": sample_id,
                "aliquot_id": aliquot_id,
                "technique_id": e.experiment["technique_id"],
                "platform_id": e.experiment.get("platform_id"),
                "notes": e.experiment.get("notes"),
                "custom_fields": e.experiment.get("custom_fields") or {},
                "system_id": experiment_system_id(sample_sid, aliquot_sid, method, n),
            }
        )
        project_sets.append(dict.fromkeys([*shared, *e.experiment.get("projects", ())]))
    links = [
        {"experiment_id": pk, "project_id": project}
        for pk, projects in zip(await _insert(session, Experiment, rows), project_sets, strict=True)
        for project in projects
    ]
    if links:
        await session.execute(insert(experiment_project), links)


def _first_per(entries: list[Entry], key: str) -> list[Entry]:
    """The first row naming each distinct object (by the named key), in row order."""
    seen: dict[Any, Entry] = {}
    for entry in entries:
        seen.setdefault(getattr(entry, key), entry)
    return list(seen.values())


# ------------------------------------------------------------------ the whole
async def process(
    *,
    session: AsyncSession,
    submission: Submission,
    path: Path,
    commit: bool,
    user: Any,
    settings: Settings,
) -> dict[str, Any]:
    """Check the form (and with `commit`, create its objects, all or none); the report
    becomes the submission's `data`, which is all a dry run writes."""
    lookups = await load_lookups(session)
    parsed = await run_in_threadpool(
        parse_form,
        path,
        lookups,
        max_rows=settings.submission_max_rows,
        max_errors=settings.submission_max_errors,
    )
    found = await plan(session, parsed.entries, lookups)
    summary = found.summary(parsed.entries)
    valid = parsed.problems.count == 0
    committed = False
    if valid and commit:
        try:
            async with session.begin_nested():
                await apply(
                    session,
                    parsed.entries,
                    found,
                    lookups,
                    submission=submission,
                    user=user,
                    prefix=settings.system_id_prefix,
                )
        except IntegrityError as exc:
            raise Conflict(
                "the submission clashes with objects stored meanwhile; process it again: "
                f"{exc.orig}"
            ) from None
        committed = True
    report = {
        "status": "committed" if committed else ("valid" if valid else "invalid"),
        "commit": commit,
        "checked": utcnow().isoformat(),
        "rows": parsed.rows,
        "valid_rows": len(parsed.entries),
        "error_count": parsed.problems.count,
        "errors": parsed.problems.items,
        "summary": summary,
    }
    submission.data = report
    submission.modified = utcnow()
    if committed:
        submission.processed = utcnow()
    await session.flush()
    return report


# ------------------------------------------------------------------ template
async def template_workbook(*, session: AsyncSession) -> bytes:
    """The form as an `.xlsx`: header, comments, drop-downs and one example row built from
    stored centers, techniques, platforms and diseases, so it can be submitted as is."""
    lookups = await load_lookups(session)
    columns = []
    for column in form_columns(lookups):
        choices: Sequence[str] = column.choices
        example = column.example
        if column.kind == "lookup":
            choices = lookups.by_kind[column.lookup].choices
            example = (
                choices[0] if choices else (column.lookup.upper() if column.required else None)
            )
        columns.append(
            TemplateColumn(
                header=column.key,
                comment=column.comment,
                example=example,
                choices=choices,
                required=column.required,
                width=max(14, len(column.key) + 4),
            )
        )
    return await run_in_threadpool(
        lambda: build_template(columns, sheet_title="submission", notes=NOTES)
    )
