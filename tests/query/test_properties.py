"""Hypothesis properties: each operator agrees with a plain-Python oracle on the same rows,
on both databases, and no query string makes the compiler raise anything but QueryError.

The rows are inserted once per test (a fixture), the examples then only query them. Values
are drawn mostly from substrings of the stored values, with their case changed and
wildcards (`%`, `_`) and the LIKE escape characters (`/` for contains, `\\` for like)
mixed in.

Characters are kept to those on which Python's `str.lower()` and PostgreSQL's `lower()`
under C.UTF-8 agree (ASCII, Latin-1 letters, Greek), deliberately leaving out: 'İ' and 'ı'
(Python lowers 'İ' to two characters), 'ß'/'ẞ', 'Σ'/'ς' (Python's final-sigma rule, where
PostgreSQL lowers letter by letter), 'µ' (its upper case is Greek 'Μ'), non-ASCII digits
(`\\d` differs), and line breaks (`.` and `$` differ between `re` and PostgreSQL).
Text order is by code point: the test database uses the C collation, as SQLite does.
JSON values are kept to scalars and short decimals, which both databases render the same
way (a nested object or `1e-07` is rendered differently: `{"x": 1}` vs `{"x":1}`).
"""

import datetime as dt
import decimal
import itertools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.core.errors import QueryError
from labapi.isabl.models import Method, Technique
from labapi.query import (
    OPERATORS,
    TRANSFORMS,
    Condition,
    Lookup,
    apply_ordering,
    apply_window,
    compile_filters,
    count_rows,
    limit_offset_window,
    page_window,
    parse_param,
    parse_params,
    split_query_string,
)
from tests.query.conftest import ALIASES, utc

# LABAPI_HYPOTHESIS_SCALE=10 runs ten times as many examples (a longer hunt, e.g. nightly).
SCALE = int(os.environ.get("LABAPI_HYPOTHESIS_SCALE", "1"))
PROPERTY = settings(
    max_examples=100 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ALPHABET = "aAbBzZ09 %_/\\,.-éÉñÑöÖçÇαΑβΒωΩλΛ"
NOTES: tuple[str | None, ...] = (
    None, None, None, "", "a", "A", "abc", "ABC", "aBc", "%", "_", "/", "\\", "a%b",
    "a_b", "a/b", "a\\b", "%_/\\", "50%_off", "100%", "x_y_z", "é", "É", "éa", "ÉA%",
    "ñoño", "ÑOÑO", "αβγ", "ΑΒΓ", "ωΩλ", "öÖ", "çÇ", "a b", " a", "b ", "a,b", "Ab,c",
    "zz", "Z9", "a.b", "a-b", "..", "\\%", "\\_", "/%", "//",
)  # fmt: skip
CATEGORIES = ("DNA", "rna", "Rna", "a_b", "a%", "é", "", "Ω", "x/y", "5", "b\\")
STORAGE: tuple[int | None, ...] = (
    None, 0, 1, -1, 7, 100, 99, 2**40, -(2**40), 5_000_000_000, 2**63 - 1, -(2**63), None,
)  # fmt: skip
CREATED = (
    utc(2016, 6, 4, 21, 0, 51),
    utc(2016, 12, 31, 23, 59, 59, 999999),
    utc(2017, 1, 1, 0, 0, 0),
    utc(2020, 2, 29, 12, 30, 15, 500000),
    utc(1999, 12, 31, 23, 59, 59),
    utc(2000, 1, 1, 0, 0, 0, 1),
    utc(2024, 7, 7, 7, 7, 7, 70707),
    utc(2016, 6, 5, 0, 0, 0),
    utc(2021, 3, 14, 15, 9, 26, 535897),
    utc(2016, 6, 4, 9, 15),
    utc(1970, 1, 1, 0, 0),
)
MISSING = object()
JSON_VALUES: tuple[Any, ...] = (
    "a", "A", "abc", "%", "_", "a%b", "5", "10", "true", "True", "é", "", "a/b", "\\",
    5, 10, -3, 0, 9.5, 0.5, -2.25, 10.0, 1, True, False, None, MISSING, MISSING,
)  # fmt: skip
TEXT_OPS = (
    "exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
    "iendswith", "like", "ilike", "containsall", "icontainsall", "in", "range", "isnull",
    "regex", "iregex", "gt", "gte", "lt", "lte",
)  # fmt: skip
NUMBER_OPS = ("exact", "in", "range", "isnull", "gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class Stored:
    """One inserted row, as Python values."""

    id: int
    notes: str | None
    category: str
    storage_usage: int | None
    created: dt.datetime
    custom_fields: dict[str, Any]


@dataclass
class Rows:
    rows: list[Stored]

    @property
    def ids(self) -> set[int]:
        return {row.id for row in self.rows}


@pytest.fixture
async def rows(session: AsyncSession) -> Rows:
    """A row per stored note, with the other pools cycled through."""
    stored: list[Stored] = []
    objects = []
    categories, storage = itertools.cycle(CATEGORIES), itertools.cycle(STORAGE)
    created, json_values = itertools.cycle(CREATED), itertools.cycle(JSON_VALUES)
    for index, notes in enumerate(NOTES):
        value = next(json_values)
        doc = {} if value is MISSING else {"k": value}
        obj = Technique(
            name=f"row {index}",
            slug=f"row-{index}",
            method=Method.WG,
            category=next(categories),
            notes=notes,
            storage_usage=next(storage),
            created=next(created),
            custom_fields=doc,
        )
        objects.append(obj)
    session.add_all(objects)
    await session.flush()
    for obj in objects:
        stored.append(
            Stored(
                obj.id,
                obj.notes,
                obj.category,
                obj.storage_usage,
                obj.created,
                obj.custom_fields,
            )
        )
    return Rows(stored)


async def selected(session: AsyncSession, conditions: Sequence[Condition]) -> set[int]:
    """The ids the compiled conditions select (in a savepoint, so that one failing
    example cannot poison the transaction of the next)."""
    stmt = select(Technique.id).where(*compile_filters(Technique, conditions, ALIASES))
    async with session.begin_nested():
        return set((await session.scalars(stmt)).all())


async def selected_or_error(
    session: AsyncSession, conditions: Sequence[Condition]
) -> set[int] | QueryError:
    """The selected ids, or the QueryError compiling the conditions raised."""
    try:
        return await selected(session, conditions)
    except QueryError as exc:
        return exc


# ------------------------------------------------------------------------ oracles
def like_regex(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (`%`, `_`, backslash escapes) as a Python regex."""
    parts, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars)))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def like_ok(pattern: str) -> bool:
    return (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 0


TextOracle = Callable[[str, str], bool]
TEXT_ORACLES: dict[str, TextOracle] = {
    "exact": lambda v, q: v == q,
    "iexact": lambda v, q: v.lower() == q.lower(),
    "contains": lambda v, q: q in v,
    "icontains": lambda v, q: q.lower() in v.lower(),
    "startswith": lambda v, q: v.startswith(q),
    "istartswith": lambda v, q: v.lower().startswith(q.lower()),
    "endswith": lambda v, q: v.endswith(q),
    "iendswith": lambda v, q: v.lower().endswith(q.lower()),
    "like": lambda v, q: like_regex(q).fullmatch(v) is not None,
    "ilike": lambda v, q: like_regex(q.lower()).fullmatch(v.lower()) is not None,
    "containsall": lambda v, q: all(p in v for p in q.split(",")),
    "icontainsall": lambda v, q: all(p.lower() in v.lower() for p in q.split(",")),
    "in": lambda v, q: v in q.split(","),
    "range": lambda v, q: q.split(",")[0] <= v <= q.split(",")[1],
    "regex": lambda v, q: re.search(q, v) is not None,
    "iregex": lambda v, q: re.search("(?i)" + q, v) is not None,
    "gt": lambda v, q: v > q,
    "gte": lambda v, q: v >= q,
    "lt": lambda v, q: v < q,
    "lte": lambda v, q: v <= q,
}
BOOLS = {"true": True, "1": True, "false": False, "0": False}


def text_matches(op: str, value: str | None, raw: str) -> bool:
    """Whether a text column holding `value` satisfies `op raw` (NULL never does)."""
    if op == "isnull":
        return (value is None) == BOOLS[raw.lower()]
    return value is not None and TEXT_ORACLES[op](value, raw)


def expected_ids(rows: Rows, matches: Callable[[Stored], bool], negate: bool) -> set[int]:
    """The oracle's answer; a negation is the exact complement, NULL rows included."""
    positive = {row.id for row in rows.rows if matches(row)}
    return rows.ids - positive if negate else positive


# --------------------------------------------------------------------- strategies
@st.composite
def fragments(draw: st.DrawFn, pool: Sequence[str | None] = NOTES) -> str:
    """Mostly a piece of a stored value, sometimes recased, sometimes random text."""
    how = draw(st.sampled_from(("substring", "recased", "whole", "random")))
    if how == "random":
        return draw(st.text(alphabet=ALPHABET, max_size=4))
    stored = draw(st.sampled_from([value for value in pool if value is not None]))
    if how == "whole":
        return stored
    start = draw(st.integers(0, len(stored)))
    end = draw(st.integers(start, len(stored)))
    piece = stored[start:end]
    if how == "recased":
        piece = draw(st.sampled_from((piece.upper(), piece.lower(), piece.swapcase())))
    return piece


@st.composite
def like_patterns(draw: st.DrawFn) -> str:
    """A fragment with some characters turned into wildcards or escapes."""
    base = draw(fragments())
    out = []
    for char in base:
        action = draw(st.sampled_from(("keep", "keep", "keep", "one", "any", "escape")))
        if action == "one":
            out.append("_")
        elif action == "any":
            out.append("%")
        elif action == "escape":
            out.append("\\" + char)
        else:
            out.append(char)
    pattern = "".join(out)
    if draw(st.booleans()):
        pattern = "%" + pattern
    if draw(st.booleans()):
        pattern += draw(st.sampled_from(("%", "", "\\", "\\\\")))
    return pattern


REGEX_ALPHABET = "abAB.^$*+?()[]{}|\\-1,é%_Ωdws "


@st.composite
def regex_patterns(draw: st.DrawFn) -> str:
    """A pattern built from escaped fragments and portable syntax, or raw syntax soup."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.text(alphabet=REGEX_ALPHABET, max_size=6))
    atoms = draw(
        st.lists(
            st.one_of(
                fragments().map(re.escape),
                st.sampled_from((".", "[aé]", "[^a]", "\\d", "\\w", "\\s", "(a|Ω)", "[A-Z]")),
            ),
            min_size=1,
            max_size=3,
        )
    )
    pattern = "".join(
        atom + draw(st.sampled_from(("", "", "*", "+", "?", "{1,2}", "*?"))) for atom in atoms
    )
    return draw(st.sampled_from(("", "^"))) + pattern + draw(st.sampled_from(("", "$")))


def text_values(op: str) -> st.SearchStrategy[str]:
    """Raw values for a text operator."""
    if op == "isnull":
        return st.sampled_from(("true", "false", "True", "False", "1", "0"))
    if op in ("like", "ilike"):
        return like_patterns()
    if op in ("regex", "iregex"):
        return regex_patterns()
    if op in ("in", "containsall", "icontainsall"):
        return st.lists(fragments(), min_size=1, max_size=3).map(",".join)
    if op == "range":
        return st.lists(fragments(), min_size=2, max_size=2).map(",".join)
    return fragments()


def text_value_valid(op: str, raw: str) -> bool:
    if op in ("like", "ilike"):
        return like_ok(raw)
    if op == "range":
        return len(raw.split(",")) == 2
    return True


# ------------------------------------------------------------------------- tests
class TestTextOperators:
    @pytest.mark.parametrize("op", TEXT_OPS)
    @PROPERTY
    @given(data=st.data())
    async def test_agrees_with_python(
        self, session: AsyncSession, rows: Rows, op: str, data: st.DataObject
    ) -> None:
        raw = data.draw(text_values(op), label="raw")
        negate = data.draw(st.booleans(), label="negate")
        condition = parse_param(f"notes__{op}" + ("!" if negate else ""), raw)
        if not text_value_valid(op, raw):
            with pytest.raises(QueryError):
                await selected(session, [condition])
            return
        ids = await selected_or_error(session, [condition])
        if isinstance(ids, QueryError):
            # Only a pattern `re` refuses, or one PostgreSQL would read differently.
            assert op in ("regex", "iregex")
            assert ids.errors[0].type == "invalid_regex"
            return
        assert ids == expected_ids(rows, lambda row: text_matches(op, row.notes, raw), negate)

    @pytest.mark.parametrize("op", TEXT_OPS)
    @PROPERTY
    @given(data=st.data())
    async def test_wildcards_in_literal_operators_match_themselves(
        self, session: AsyncSession, rows: Rows, op: str, data: st.DataObject
    ) -> None:
        if op in ("like", "ilike", "regex", "iregex", "isnull"):
            return
        raw = data.draw(st.text(alphabet="%_/\\aA", min_size=1, max_size=3), label="raw")
        if op == "range":
            raw = f"{raw},{raw}"
        ids = await selected(session, [parse_param(f"notes__{op}", raw)])
        assert ids == expected_ids(rows, lambda row: text_matches(op, row.notes, raw), False)


class TestCombined:
    @PROPERTY
    @given(data=st.data())
    async def test_parts_are_ored(
        self, session: AsyncSession, rows: Rows, data: st.DataObject
    ) -> None:
        op = data.draw(st.sampled_from(("icontains", "exact", "startswith", "iexact", "gt")))
        raw = data.draw(fragments(NOTES + CATEGORIES), label="raw")
        negate = data.draw(st.booleans(), label="negate")
        condition = parse_param(f"[notes,category]__{op}" + ("!" if negate else ""), raw)

        def matches(row: Stored) -> bool:
            return text_matches(op, row.notes, raw) or text_matches(op, row.category, raw)

        assert await selected(session, [condition]) == expected_ids(rows, matches, negate)

    @PROPERTY
    @given(data=st.data())
    async def test_mixed_kinds_skip_parts_that_do_not_fit(
        self, session: AsyncSession, rows: Rows, data: st.DataObject
    ) -> None:
        raw = data.draw(st.one_of(fragments(), st.integers(-2, 200).map(str)), label="raw")
        negate = data.draw(st.booleans(), label="negate")
        condition = parse_param(
            "[storage_usage__gte,notes__icontains]" + ("!" if negate else ""), raw
        )
        number = parse_int(raw)

        def matches(row: Stored) -> bool:
            if text_matches("icontains", row.notes, raw):
                return True
            return None not in (number, row.storage_usage) and row.storage_usage >= number  # type: ignore[operator]

        assert await selected(session, [condition]) == expected_ids(rows, matches, negate)

    @PROPERTY
    @given(data=st.data())
    async def test_separate_parameters_are_anded(
        self, session: AsyncSession, rows: Rows, data: st.DataObject
    ) -> None:
        specs = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(("icontains", "startswith", "exact", "lt")),
                    fragments(),
                    st.booleans(),
                ),
                min_size=1,
                max_size=3,
            ),
            label="conditions",
        )
        conditions = [
            parse_param(f"notes__{op}" + ("!" if negate else ""), raw) for op, raw, negate in specs
        ]
        expected = rows.ids
        for op, raw, negate in specs:

            def matches(row: Stored, op: str = op, raw: str = raw) -> bool:
                return text_matches(op, row.notes, raw)

            expected &= expected_ids(rows, matches, negate)
        assert await selected(session, conditions) == expected


# ------------------------------------------------------------------------ integers
INT64 = 2**63


@st.composite
def integer_values(draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(("near", "near", "any", "bad")))
    if how == "bad":
        return draw(st.sampled_from(("1.5", "abc", "", "0x10", "1e3", "--1")))
    if how == "any":
        number = draw(st.integers(-(2**64), 2**64))
    else:
        base = draw(st.sampled_from([value for value in STORAGE if value is not None]))
        number = base + draw(st.integers(-1, 1))
    return draw(st.sampled_from(("{}", " {} ", "{}"))).format(number)


def parse_int(raw: str) -> int | None:
    """The oracle's integer: a decimal literal within 64 bits."""
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        return None
    value = int(text)
    return value if -INT64 <= value < INT64 else None


# Comparisons shared by integers, dates, times, decimals and text.
INT_ORACLES: dict[str, Callable[[Any, list[Any]], bool]] = {
    "exact": lambda v, q: v == q[0],
    "in": lambda v, q: v in q,
    "range": lambda v, q: q[0] <= v <= q[1],
    "gt": lambda v, q: v > q[0],
    "gte": lambda v, q: v >= q[0],
    "lt": lambda v, q: v < q[0],
    "lte": lambda v, q: v <= q[0],
}


class TestIntegerOperators:
    @pytest.mark.parametrize("op", NUMBER_OPS)
    @PROPERTY
    @given(data=st.data())
    async def test_agrees_with_python(
        self, session: AsyncSession, rows: Rows, op: str, data: st.DataObject
    ) -> None:
        negate = data.draw(st.booleans(), label="negate")
        if op == "isnull":
            raw = data.draw(st.sampled_from(("true", "false", "1", "0", "maybe")), label="raw")
        else:
            count = {"in": data.draw(st.integers(1, 3)), "range": 2}.get(op, 1)
            parts = data.draw(st.lists(integer_values(), min_size=count, max_size=count))
            raw = ",".join(parts)
        condition = parse_param(f"storage_usage__{op}" + ("!" if negate else ""), raw)
        if op == "isnull":
            if raw.lower() not in BOOLS:
                with pytest.raises(QueryError):
                    await selected(session, [condition])
                return
            flag = BOOLS[raw.lower()]
            expected = expected_ids(rows, lambda row: (row.storage_usage is None) == flag, negate)
            assert await selected(session, [condition]) == expected
            return
        numbers = [parse_int(part) for part in raw.split(",")]
        if any(number is None for number in numbers):
            with pytest.raises(QueryError) as info:
                await selected(session, [condition])
            assert info.value.errors[0].loc == ("query", condition.param)
            return
        values = [number for number in numbers if number is not None]

        def matches(row: Stored) -> bool:
            return row.storage_usage is not None and INT_ORACLES[op](row.storage_usage, values)

        assert await selected(session, [condition]) == expected_ids(rows, matches, negate)


# ----------------------------------------------------------------------- datetimes
def week_day(value: dt.datetime) -> int:
    return value.isoweekday() % 7 + 1


PARTS: dict[str, Callable[[dt.datetime], Any]] = {
    "year": lambda d: d.year,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    "week_day": week_day,
    "hour": lambda d: d.hour,
    "minute": lambda d: d.minute,
    "date": lambda d: d.date(),
    "time": lambda d: d.time(),
}


@st.composite
def transform_values(draw: st.DrawFn, transform: str) -> str:
    stored = draw(st.sampled_from(CREATED))
    if transform == "date":
        day = stored.date() + dt.timedelta(days=draw(st.integers(-1, 1)))
        return day.isoformat()
    if transform == "time":
        moment = stored + dt.timedelta(seconds=draw(st.integers(-1, 1)))
        spec = draw(st.sampled_from(("seconds", "microseconds", "minutes")))
        text = moment.time().isoformat(timespec=spec)
        return text + draw(st.sampled_from(("", "", "Z")))
    return str(PARTS[transform](stored) + draw(st.integers(-1, 1)))


def time_matches(value: dt.time, raw: str, op: str) -> bool:
    query = dt.time.fromisoformat(raw.removesuffix("Z"))
    if op == "exact" and "." not in raw:
        return query <= value <= query.replace(microsecond=999999)
    return INT_ORACLES[op](value, [query])


class TestTransforms:
    @pytest.mark.parametrize("transform", TRANSFORMS)
    @PROPERTY
    @given(data=st.data())
    async def test_agrees_with_python(
        self, session: AsyncSession, rows: Rows, transform: str, data: st.DataObject
    ) -> None:
        op = data.draw(st.sampled_from(("exact", "gt", "gte", "lt", "lte", "in")), label="op")
        negate = data.draw(st.booleans(), label="negate")
        count = data.draw(st.integers(1, 3)) if op == "in" else 1
        parts = data.draw(st.lists(transform_values(transform), min_size=count, max_size=count))
        raw = ",".join(parts)
        condition = parse_param(f"created__{transform}__{op}" + ("!" if negate else ""), raw)

        def matches(row: Stored) -> bool:
            value = PARTS[transform](row.created)
            if transform == "time":
                if op == "in":
                    return any(
                        value == dt.time.fromisoformat(part.removesuffix("Z")) for part in parts
                    )
                return time_matches(value, raw, op)
            queries: list[Any]
            if transform == "date":
                queries = [dt.date.fromisoformat(part) for part in parts]
            else:
                queries = [int(part) for part in parts]
            return INT_ORACLES[op](value, queries)

        assert await selected(session, [condition]) == expected_ids(rows, matches, negate)

    @PROPERTY
    @given(data=st.data())
    async def test_datetime_comparisons(
        self, session: AsyncSession, rows: Rows, data: st.DataObject
    ) -> None:
        op = data.draw(st.sampled_from(("exact", "gt", "gte", "lt", "lte")), label="op")
        stored = data.draw(st.sampled_from(CREATED))
        moment = stored + dt.timedelta(microseconds=data.draw(st.sampled_from((-1, 0, 1))))
        offset = dt.timezone(dt.timedelta(hours=data.draw(st.integers(-12, 12))))
        raw = moment.astimezone(offset).isoformat()
        negate = data.draw(st.booleans(), label="negate")
        condition = parse_param(f"created__{op}" + ("!" if negate else ""), raw)
        expected = expected_ids(
            rows,
            lambda row: INT_ORACLES[op](row.created, [moment]),
            negate,
        )
        assert await selected(session, [condition]) == expected


# ---------------------------------------------------------------------------- JSON
def json_text(doc: dict[str, Any]) -> str | None:
    value = doc.get("k")
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def json_number(doc: dict[str, Any]) -> decimal.Decimal | None:
    value = doc.get("k")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return decimal.Decimal(repr(value))


def parse_number(raw: str) -> decimal.Decimal | None:
    try:
        value = decimal.Decimal(raw.strip())
    except decimal.InvalidOperation:
        return None
    if not value.is_finite() or (value and abs(value.adjusted()) > 300):
        return None
    return value


def json_matches(op: str, doc: dict[str, Any], raw: str) -> bool:
    text = json_text(doc)
    if op == "has_key":
        return raw in doc
    if op == "isnull":
        return (text is None) == BOOLS[raw.lower()]
    if op in ("exact", "in"):
        for part in raw.split(",") if op == "in" else [raw]:
            candidates = (
                {part, str(BOOLS[part.lower()]).lower()} if part.lower() in BOOLS else {part}
            )
            number = parse_number(part)
            if text in candidates:
                return True
            if number is not None and json_number(doc) == number:
                return True
        return False
    if op in ("gt", "gte", "lt", "lte", "range"):
        parts = raw.split(",") if op == "range" else [raw]
        numbers = [parse_number(part) for part in parts]
        if all(number is not None for number in numbers):
            value = json_number(doc)
            return value is not None and INT_ORACLES[op](value, numbers)
        return text is not None and INT_ORACLES[op](text, parts)
    return text is not None and TEXT_ORACLES[op](text, raw)


JSON_OPS = (
    "exact", "iexact", "contains", "icontains", "startswith", "in", "gt", "gte", "lt",
    "lte", "range", "isnull", "regex", "has_key",
)  # fmt: skip
JSON_TEXTS = tuple(
    text for text in (json_text({"k": v}) for v in JSON_VALUES if v is not MISSING) if text
)


def json_values(op: str) -> st.SearchStrategy[str]:
    if op == "isnull":
        return st.sampled_from(("true", "false", "1", "0"))
    if op == "has_key":
        return st.sampled_from(("k", "K", "x", ""))
    if op == "regex":
        return fragments(JSON_TEXTS).map(re.escape)
    numbers = st.sampled_from(("5", "5.0", "9.50", "-3", "1e1", "0", "-2.25", "0.5", "10"))
    words = st.sampled_from(("True", "true", "FALSE", "1", "0"))
    single = st.one_of(fragments(JSON_TEXTS), numbers, words)
    if op == "in":
        return st.lists(single, min_size=1, max_size=3).map(",".join)
    if op == "range":
        return st.lists(st.one_of(numbers, fragments(JSON_TEXTS)), min_size=2, max_size=2).map(
            ",".join
        )
    return single


class TestJsonOperators:
    @pytest.mark.parametrize("op", JSON_OPS)
    @PROPERTY
    @given(data=st.data())
    async def test_agrees_with_python(
        self, session: AsyncSession, rows: Rows, op: str, data: st.DataObject
    ) -> None:
        raw = data.draw(json_values(op), label="raw")
        negate = data.draw(st.booleans(), label="negate")
        key = "custom_fields__has_key" if op == "has_key" else f"custom_fields__k__{op}"
        condition = parse_param(key + ("!" if negate else ""), raw)
        if op == "range" and len(raw.split(",")) != 2:
            with pytest.raises(QueryError):
                await selected(session, [condition])
            return
        expected = expected_ids(rows, lambda row: json_matches(op, row.custom_fields, raw), negate)
        assert await selected(session, [condition]) == expected


# ------------------------------------------------------------------------- garbage
FIELDS = (
    "name", "notes", "method", "created", "modified", "storage_usage", "custom_fields",
    "tags", "created_by", "pk", "uupk", "uuid", "id", "category", "created_by__password",
    "nope", "custom_fields__k", "custom_fields__a__0", "tags__name", "created_by__username",
    "created_by__is_active", "created_by__last_login", "created_by__preferences__x",
)  # fmt: skip
SEGMENT_JUNK = st.text(alphabet="ab_-.:é[],!=%&+ \x00", max_size=4)


@st.composite
def garbage_keys(draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(("lookup", "lookup", "combined", "junk")))
    if how == "junk":
        return draw(st.text(max_size=12))

    def lookup() -> str:
        parts = [draw(st.sampled_from(FIELDS))]
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(TRANSFORMS) | SEGMENT_JUNK))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(OPERATORS)))
        return "__".join(parts)

    if how == "combined":
        inner = ",".join(lookup() for _ in range(draw(st.integers(1, 3))))
        key = f"[{inner}]" + draw(st.sampled_from(("",) + tuple("__" + op for op in OPERATORS)))
    else:
        key = lookup()
    return key + draw(st.sampled_from(("", "", "!")))


GARBAGE_VALUES = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.text(alphabet=REGEX_ALPHABET + "\\x00:-TZ+", max_size=10),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        (
            "NaN", "Infinity", "-Infinity", "1e999999", "{}", "[]", '{"a": [1, {"b": null}]}',
            '"\\u0000"', '"\\ud800"', "[[[[[[[[[[", "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00+01:00", "2016-06-04", "21:00:51+02:00", "24:00", "true",
            "abc\\", "a{1", "(?P<x>a)", "[[:alpha:]]", "a{,2}", "\\b", "(?=a)*", "x{300}",
            "\x00", "\ud7ff", "0,1,2", "1,", ",", "",
        )
    ),
    st.dates().map(str),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.times().map(str),
)  # fmt: skip


def compile_garbage(
    pairs: Sequence[tuple[str, str | None]], ordering: str | None
) -> tuple[Select[Any], Select[Any]] | QueryError:
    """The filtered and the ordered statement, or the QueryError on the way."""
    try:
        _, conditions = parse_params(pairs, ("limit", "offset"))
        stmt = select(Technique).where(*compile_filters(Technique, conditions, ALIASES))
        return stmt, apply_ordering(stmt, Technique, ordering, param="ordering", aliases=ALIASES)
    except QueryError as exc:
        return exc


class TestGarbage:
    @settings(
        max_examples=400 * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        pairs=st.lists(st.tuples(garbage_keys(), GARBAGE_VALUES), max_size=3),
        ordering=st.none() | st.text(alphabet="-,_abcdeimnoprstuyk+ ", max_size=20),
        window=st.dictionaries(
            st.sampled_from(("limit", "offset", "count_limit", "pg", "pg_size")),
            st.lists(st.none() | st.text(max_size=4) | st.integers(-5, 2**70).map(str), max_size=2),
        ),
    )
    async def test_only_query_errors(
        self,
        session: AsyncSession,
        rows: Rows,
        pairs: list[tuple[str, str | None]],
        ordering: str | None,
        window: dict[str, list[str | None]],
    ) -> None:
        compiled = compile_garbage(pairs, ordering)
        if isinstance(compiled, QueryError):
            assert compiled.status == 400
            assert compiled.errors
            assert all(item.loc[0] == "query" for item in compiled.errors)
            return
        stmt, ordered = compiled
        isabl = limit_offset_window(window, default=100, maximum=10000)
        facility = page_window(window, default=50, maximum=10000)
        async with session.begin_nested():
            count = await count_rows(session, stmt, cap=isabl.count_limit)
            for page in (isabl, facility):
                found = (await session.scalars(apply_window(ordered, page))).all()
                assert len(found) <= count or page is facility

    @settings(max_examples=300 * SCALE, deadline=None)
    @given(query=st.text(max_size=40))
    def test_any_query_string_parses_or_is_a_query_error(self, query: str) -> None:
        compiled = compile_garbage(split_query_string(query), None)
        assert not isinstance(compiled, QueryError) or compiled.errors


def test_pools_have_no_excluded_characters() -> None:
    text = "".join(value for value in NOTES + CATEGORIES + JSON_TEXTS if value) + ALPHABET
    for char in "İıßẞΣςµ\n\r":
        assert char not in text
    assert all(char.lower().upper().lower() == char.lower() for char in text)


def test_oracle_like_regex() -> None:
    assert like_regex("a\\%b_").fullmatch("a%bc")
    assert not like_regex("a\\%b_").fullmatch("axbc")
    assert like_regex("%\\\\").fullmatch("x\\")


def test_lookup_type() -> None:
    assert parse_param("notes__icontains!", "x").lookups == (Lookup(("notes",), "icontains"),)
