"""The public surface of `labapi.query`: `__all__` lists exactly what the package exports,
and the package stays a library (no web framework imported), as httpx pins its exports in
`tests/test_exported_members.py`."""

import ast
import subprocess
import sys
import types
from pathlib import Path

import labapi.query

QUERY_DIR = Path(labapi.query.__file__).parent
WEB_FRAMEWORKS = {"fastapi", "starlette"}

# The names the HTTP layer and the OpenAPI generator rely on; changing them is an API change.
PUBLIC_API = {
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
}


class TestAll:
    def test_all_lists_every_public_member(self) -> None:
        exported = {
            name
            for name, value in vars(labapi.query).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)
        }
        assert sorted(labapi.query.__all__) == sorted(exported)

    def test_all_has_no_duplicates(self) -> None:
        assert len(labapi.query.__all__) == len(set(labapi.query.__all__))

    def test_public_api_is_stable(self) -> None:
        assert set(labapi.query.__all__) == PUBLIC_API

    def test_functions_and_classes_come_from_the_package(self) -> None:
        for name in labapi.query.__all__:
            value = getattr(labapi.query, name)
            if isinstance(value, (type, types.FunctionType)):
                assert value.__module__.startswith("labapi.query."), name


def imported_modules(path: Path) -> set[str]:
    """The top-level package of every import statement of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


class TestNoWebImports:
    def test_every_module_is_checked(self) -> None:
        modules = sorted(path.name for path in QUERY_DIR.glob("*.py"))
        assert modules == [
            "__init__.py",
            "compile.py",
            "grammar.py",
            "operators.py",
            "ordering.py",
            "pagination.py",
            "resolve.py",
        ]

    def test_no_module_imports_a_web_framework(self) -> None:
        offenders = {
            path.name: sorted(imported_modules(path) & WEB_FRAMEWORKS)
            for path in QUERY_DIR.glob("*.py")
            if imported_modules(path) & WEB_FRAMEWORKS
        }
        assert offenders == {}

    def test_the_check_sees_a_web_import(self, tmp_path: Path) -> None:
        module = tmp_path / "bad.py"
        module.write_text("from starlette.requests import Request\nimport fastapi.params\n")
        assert imported_modules(module) & WEB_FRAMEWORKS == {"fastapi", "starlette"}

    def test_importing_the_package_loads_no_web_framework(self) -> None:
        code = (
            "import sys, labapi.query\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette'}))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == "[]"
