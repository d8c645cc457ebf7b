"""The query-string grammar: raw `key[!]=value` pairs to `Condition`s. Pure string code.

    param  := key ['!'] '=' value | key ['!']
    key    := lookup | '[' lookup {',' lookup} ']' ['__' suffix]
    lookup := field {'__' field} ['__' transform] ['__' op]

The grammar knows operator names but nothing of models: a trailing segment that names an
operator is the operator (when a field remains before it); transforms and fields are told
apart later by `resolve`, which knows the model.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus

from labapi.core.errors import ErrorItem, QueryError

OPERATORS: tuple[str, ...] = (
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "like",
    "ilike",
    "containsall",
    "icontainsall",
    "in",
    "range",
    "isnull",
    "regex",
    "iregex",
    "gt",
    "gte",
    "lt",
    "lte",
    "has_key",
)
TRANSFORMS: tuple[str, ...] = ("date", "year", "month", "day", "week_day", "hour", "minute", "time")

# Field names are identifiers; JSON keys may also hold "-", "." and ":".
_SEGMENT = re.compile(r"[\w\-.:]+")


@dataclass(frozen=True)
class Lookup:
    """One path through the model with its operator: `("individual", "species")`, `iexact`."""

    path: tuple[str, ...]
    op: str = "exact"

    def render(self) -> str:
        """The canonical text of the lookup (`__exact` dropped unless the path's last field
        is named like an operator: `custom_fields__in__exact` keeps it)."""
        key = "__".join(self.path)
        if self.op == "exact" and (len(self.path) == 1 or self.path[-1] not in OPERATORS):
            return key
        return f"{key}__{self.op}"


@dataclass(frozen=True)
class Condition:
    """One filter parameter: its lookups are OR'ed, `negate` for a trailing `!`."""

    param: str
    lookups: tuple[Lookup, ...]
    negate: bool = False
    raw: str | None = None

    def render_key(self) -> str:
        """The canonical key without `!`: `name`, `[a__icontains,b__icontains]`."""
        if len(self.lookups) == 1:
            return self.lookups[0].render()
        return "[" + ",".join(lookup.render() for lookup in self.lookups) + "]"

    def render(self) -> str:
        """The canonical parameter text, `key[!][=value]`; `parse_param` reads it back."""
        key = self.render_key() + ("!" if self.negate else "")
        return key if self.raw is None else f"{key}={self.raw}"


def split_query_string(query: str) -> list[tuple[str, str | None]]:
    """Split a raw query string into decoded pairs, keeping order, repeats and bare keys.

    `a=1&flag&b=` gives `[("a", "1"), ("flag", None), ("b", "")]`: a bare key is a flag
    (`?genotypes__isnull`), which form-decoding would turn into an empty value.
    """
    pairs: list[tuple[str, str | None]] = []
    for chunk in query.split("&"):
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        pairs.append((unquote_plus(key), unquote_plus(value) if sep else None))
    return pairs


def _parse_lookup(text: str, param: str) -> Lookup:
    segments = tuple(text.split("__"))
    if not text or any(not _SEGMENT.fullmatch(segment) for segment in segments):
        raise QueryError.one(param, f"invalid lookup {text!r}", "invalid_syntax")
    if len(segments) > 1 and segments[-1] in OPERATORS:
        return Lookup(segments[:-1], segments[-1])
    return Lookup(segments)


def parse_param(key: str, raw: str | None) -> Condition:
    """Parse one filter parameter.

    Args:
        key: the decoded key, e.g. `name__icontains`, `id__in!`, `[a,b]__icontains`.
        raw: the decoded value, or None for a bare key.

    Returns:
        The condition, with the original key kept as `param` for error locations.

    Raises:
        QueryError: the key does not follow the grammar.
    """
    param = key
    negate = key.endswith("!")
    if negate:
        key = key[:-1]
    if key.startswith("["):
        close = key.find("]")
        if close < 0:
            raise QueryError.one(param, "unbalanced '[' in combined lookup", "invalid_syntax")
        inner, rest = key[1:close], key[close + 1 :]
        if rest and not rest.startswith("__"):
            raise QueryError.one(
                param, "a combined lookup may only be followed by '__<op>'", "invalid_syntax"
            )
        parts = [part.strip() for part in inner.split(",")]
        if not inner or any(not part for part in parts):
            raise QueryError.one(param, "empty lookup in combined lookup", "invalid_syntax")
        lookups = tuple(_parse_lookup(part + rest, param) for part in parts)
    else:
        if "[" in key or "]" in key or "," in key:
            raise QueryError.one(param, f"invalid lookup {key!r}", "invalid_syntax")
        lookups = (_parse_lookup(key, param),)
    return Condition(param=param, lookups=lookups, negate=negate, raw=raw)


def parse_params(
    pairs: Iterable[tuple[str, str | None]], reserved: Sequence[str]
) -> tuple[dict[str, list[str | None]], list[Condition]]:
    """Split pairs into reserved parameters and filter conditions.

    Every bad key is reported, not only the first.

    Returns:
        The reserved parameters (each with all its values, in order) and the conditions.
    """
    taken: dict[str, list[str | None]] = {}
    conditions: list[Condition] = []
    errors: list[ErrorItem] = []
    for key, raw in pairs:
        if key in reserved:
            taken.setdefault(key, []).append(raw)
            continue
        try:
            conditions.append(parse_param(key, raw))
        except QueryError as exc:
            errors.extend(exc.errors)
    if errors:
        raise QueryError(errors)
    return taken, conditions
