"""Pagination, one layer for both surfaces: counting, windows, and the two envelopes.

- limit/offset (Isabl, DRF's LimitOffsetPagination): `{"count", "next", "previous",
  "results"}`, absolute links that keep every other parameter, `count_limit`.
- pg/pg_size (facility): `{"data", "meta", "warnings"}`, `pg_size=0` for every row.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_plus

from sqlalchemy import Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.query.grammar import Condition

# LIMIT/OFFSET are 64-bit on both databases: a larger number would be a driver error (a
# 500), so offsets and caps are clamped to it (past the end, no rows).
MAX_ROWS = 2**63 - 1


def _int(raw: str | None, default: int, minimum: int) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return min(value, MAX_ROWS) if value >= minimum else None


def _first(values: Sequence[str | None] | None) -> str | None:
    return values[-1] if values else None


@dataclass(frozen=True)
class Window:
    """Which rows a request asks for: `limit` None means all of them."""

    offset: int
    limit: int | None
    count_limit: int | None = None
    page: int = 1
    warnings: tuple[str, ...] = ()

    @property
    def effective_limit(self) -> int | None:
        """The limit after `count_limit` capped the rows the query may return."""
        if self.count_limit is None:
            return self.limit
        room = max(0, self.count_limit - self.offset)
        return room if self.limit is None else min(self.limit, room)


def limit_offset_window(
    reserved: dict[str, list[str | None]], *, default: int, maximum: int
) -> Window:
    """`limit`/`offset`/`count_limit` as DRF reads them: a bad value means the default,
    a limit above the maximum is clamped to it."""
    limit = _int(_first(reserved.get("limit")), default, 1)
    offset = _int(_first(reserved.get("offset")), 0, 0)
    count_limit = _int(_first(reserved.get("count_limit")), 0, 0)
    return Window(
        offset=offset or 0,
        limit=min(limit or default, maximum),
        count_limit=count_limit,
    )


def page_window(reserved: dict[str, list[str | None]], *, default: int, maximum: int) -> Window:
    """`pg`/`pg_size` as the facility reads them; `pg_size=0` asks for every row.

    A bad value falls back to its default with a warning; so does a size above the maximum.
    """
    warnings: list[str] = []
    raw_page, raw_size = _first(reserved.get("pg")), _first(reserved.get("pg_size"))
    page = _int(raw_page, 1, 1)
    if raw_page is not None and page is None:
        warnings.append(f"pg={raw_page!r} is not a page number (1 or more); using 1")
    size = _int(raw_size, default, 0)
    if raw_size is not None and size is None:
        warnings.append(f"pg_size={raw_size!r} is not a page size (0 or more); using {default}")
    size = default if size is None else size
    if size > maximum:
        warnings.append(f"pg_size={size} is above the maximum; using {maximum}")
        size = maximum
    page = page or 1
    if size == 0:
        return Window(offset=0, limit=None, page=1, warnings=tuple(warnings))
    offset = min((page - 1) * size, MAX_ROWS)
    return Window(offset=offset, limit=size, page=page, warnings=tuple(warnings))


async def count_rows(session: AsyncSession, stmt: Select[Any], cap: int | None = None) -> int:
    """Count the rows of a filtered statement, at most `cap` of them.

    The count wraps a `SELECT 1 ... [LIMIT cap]` subquery without ORDER BY: ordering joins
    and sort work are useless for a count, and a cap lets PostgreSQL stop early.
    """
    inner = stmt.with_only_columns(literal(1), maintain_column_froms=True).order_by(None)
    if cap is not None:
        inner = inner.limit(cap)
    result = await session.execute(select(func.count()).select_from(inner.subquery()))
    return int(result.scalar_one())


def apply_window(stmt: Select[Any], window: Window) -> Select[Any]:
    """LIMIT/OFFSET for the window."""
    limit = window.effective_limit
    if window.offset:
        stmt = stmt.offset(window.offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def replace_query(query: str, **updates: int | None) -> str:
    """The raw query string with some parameters set (or dropped with None).

    Every other parameter stays byte for byte, repeated keys and bare flags included.
    """
    kept = [
        chunk
        for chunk in query.split("&")
        if chunk and unquote_plus(chunk.partition("=")[0]) not in updates
    ]
    kept += [f"{quote(key)}={value}" for key, value in updates.items() if value is not None]
    return "&".join(kept)


def _link(base_url: str, query: str) -> str:
    return f"{base_url}?{query}" if query else base_url


def limit_offset_envelope(
    results: list[Any], *, count: int, window: Window, base_url: str, query: str
) -> dict[str, Any]:
    """`{"count", "next", "previous", "results"}` with absolute links."""
    limit = window.limit or len(results) or 1
    offset = window.offset
    next_url = None
    if offset + limit < count:
        next_url = _link(base_url, replace_query(query, limit=limit, offset=offset + limit))
    previous_url = None
    if offset > 0:
        previous_offset = offset - limit
        previous_url = _link(
            base_url,
            replace_query(
                query, limit=limit, offset=previous_offset if previous_offset > 0 else None
            ),
        )
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


@dataclass
class Meta:
    """The facility's `meta` block, before rendering."""

    conditions: Sequence[Condition]
    order: str | None
    filtered_count: int
    total_count: int
    window: Window
    warnings: list[str] = field(default_factory=list)


def filters_echo(conditions: Sequence[Condition]) -> dict[str, dict[str, str | None]]:
    """`{"positive": {...}, "negative": {...}}`: canonical keys (no `!`) to raw values."""
    echo: dict[str, dict[str, str | None]] = {"positive": {}, "negative": {}}
    for condition in conditions:
        side = "negative" if condition.negate else "positive"
        echo[side][condition.render_key()] = condition.raw
    return echo


def max_page(filtered_count: int, page_size: int | None) -> int:
    """`max(1, ceil(filtered / size))`; 1 when every row is on one page."""
    if not page_size:
        return 1
    return max(1, math.ceil(filtered_count / page_size))


def meta_envelope(data: list[Any], meta: Meta) -> dict[str, Any]:
    """`{"data", "meta", "warnings"}`; a page past the last one gets a warning."""
    window = meta.window
    last = max_page(meta.filtered_count, window.limit)
    warnings = [*window.warnings, *meta.warnings]
    if window.page > last:
        warnings.append(f"page {window.page} is past the last page ({last}); no rows returned")
    return {
        "data": data,
        "meta": meta_block(meta),
        "warnings": warnings,
    }


def meta_block(meta: Meta) -> dict[str, Any]:
    """The `meta` object alone (the streamed form writes it after the rows)."""
    window = meta.window
    return {
        "filters": filters_echo(meta.conditions),
        "order": meta.order,
        "filtered_count": meta.filtered_count,
        "total_count": meta.total_count,
        "page": window.page,
        "page_size": window.limit or 0,
        "max_page": max_page(meta.filtered_count, window.limit),
    }
