"""Rules of the codebase that a linter does not know, checked on every run."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_commit_outside_core_db(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert _load("lint_commits").offenders(Path("src/labapi")) == []


def test_the_check_finds_a_commit(tmp_path, monkeypatch):
    package = tmp_path / "src" / "labapi"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("async def f(session):\n    await session.commit()\n")
    monkeypatch.chdir(tmp_path)
    assert _load("lint_commits").offenders(Path("src/labapi")) == [
        "src/labapi/bad.py:2: commit() outside core/db.py"
    ]
