"""The summary of a py-spy recording (`bench/profile.py`)."""

from pathlib import Path

from bench.profile import package, summarize

RAW = (
    "run (uvicorn/server.py:1);call (labapi/api/factory.py:10);"
    "execute (sqlalchemy/orm/session.py:5) 3\n"
    "run (uvicorn/server.py:1);call (labapi/api/factory.py:10);"
    "call (labapi/api/factory.py:10) 1\n"
    "select (selectors.py:2) 1\n"
)


def test_frames_belong_to_their_package() -> None:
    assert package("execute (sqlalchemy/orm/session.py:5)") == "sqlalchemy"
    assert package("call (/work/src/labapi/api/factory.py:10)") == "labapi"
    assert package("select (selectors.py:2)") == "stdlib and other"


def test_shares_by_package_and_by_labapi_function(tmp_path: Path) -> None:
    raw = tmp_path / "p.raw"
    raw.write_text(RAW)
    text = summarize(raw, "detail")
    assert "5 samples" in text
    assert " 60.0 %  sqlalchemy" in text
    assert " 20.0 %  labapi" in text
    # A recursive frame counts once per sample: 4 of 5 samples, not 5.
    assert " 80.0 %  factory.py:call" in text
