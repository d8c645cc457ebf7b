"""The query language of both surfaces: a library inside the app, free of web imports.

`grammar` parses parameters, `resolve` walks models, `operators` builds SQL, `compile`
puts conditions together, `ordering` sorts, `pagination` windows and envelopes.
"""

from labapi.query.compile import (
    compile_condition,
    compile_filters,
    compile_lookup,
    compile_search,
    search_terms,
)
from labapi.query.grammar import (
    OPERATORS,
    TRANSFORMS,
    Condition,
    Lookup,
    parse_param,
    parse_params,
    split_query_string,
)
from labapi.query.ordering import apply_ordering, parse_ordering
from labapi.query.pagination import (
    Meta,
    Window,
    apply_window,
    count_rows,
    filters_echo,
    limit_offset_envelope,
    limit_offset_window,
    max_page,
    meta_block,
    meta_envelope,
    page_window,
    replace_query,
)
from labapi.query.resolve import OPERATORS_BY_KIND, Field, Kind, field_names, resolve

__all__ = [
    "OPERATORS",
    "OPERATORS_BY_KIND",
    "TRANSFORMS",
    "Condition",
    "Field",
    "Kind",
    "Lookup",
    "Meta",
    "Window",
    "apply_ordering",
    "apply_window",
    "compile_condition",
    "compile_filters",
    "compile_lookup",
    "compile_search",
    "count_rows",
    "field_names",
    "filters_echo",
    "limit_offset_envelope",
    "limit_offset_window",
    "max_page",
    "meta_block",
    "meta_envelope",
    "page_window",
    "parse_ordering",
    "parse_param",
    "parse_params",
    "replace_query",
    "resolve",
    "search_terms",
    "split_query_string",
]
