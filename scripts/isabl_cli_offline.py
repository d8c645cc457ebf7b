"""pytest plugin for the isabl-cli suite on an offline machine (`-p isabl_cli_offline`).

- No analytics upload: isabl_cli calls the module-level `analytics.identify/group/track`
  (analytics-python); with `analytics.send = False` its client queues nothing for upload.
- No retry sleeps: `isabl_cli.api.retry_request` sleeps 0.2 s ... 900 s between attempts
  after a 5xx or a connection error; the sleeps are skipped (the attempts still happen) and
  counted in the summary.
- With `ISABL_CLI_TRACE=<file>`, every HTTP request of each test is appended to that file
  as one JSON line (`test`, `method`, `url`, `status`, and the body of 4xx/5xx answers).
- The suite's `conftest.py` sets up the `clients` objects in `pytest_sessionstart`; when that
  raises, pytest would stop before running any test. The error is reported instead, every
  test still runs, and the session fails.
"""

import json
import os
import traceback
import types

import analytics
import pytest

analytics.send = False

RETRIES: list[float] = []
SESSIONSTART_ERRORS: list[str] = []


def _no_sleep(seconds: float) -> None:
    RETRIES.append(seconds)


def _guarded(function):  # type: ignore[no-untyped-def]
    def hook(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - reported and fails the session below
            SESSIONSTART_ERRORS.append(traceback.format_exc())
            return None

    return hook


CURRENT = {"test": "<session>"}


def _trace(path: str) -> None:
    import requests

    send = requests.Session.send

    def traced_send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        response = send(self, request, **kwargs)
        entry = {
            "test": CURRENT["test"],
            "method": request.method,
            "url": request.url,
            "status": response.status_code,
        }
        if response.status_code >= 400:
            entry["body"] = response.text[:2000]
        with open(path, "a") as sink:
            sink.write(json.dumps(entry) + "\n")
        return response

    requests.Session.send = traced_send


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> None:
    CURRENT["test"] = item.nodeid


def pytest_configure(config: pytest.Config) -> None:
    import isabl_cli.api

    if os.environ.get("ISABL_CLI_TRACE"):
        _trace(os.environ["ISABL_CLI_TRACE"])
    # Only isabl_cli.api's view of `time` changes: its one use is the retry sleep.
    isabl_cli.api.time = types.SimpleNamespace(sleep=_no_sleep)
    for impl in config.pluginmanager.hook.pytest_sessionstart.get_hookimpls():
        if "conftest" in (impl.plugin_name or ""):
            impl.function = _guarded(impl.function)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SESSIONSTART_ERRORS and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    write = terminalreporter.write_line
    if RETRIES:
        write(f"isabl_cli retried {len(RETRIES)} request(s) after a 5xx or connection error")
    for error in SESSIONSTART_ERRORS:
        terminalreporter.section("conftest pytest_sessionstart failed", sep="=", red=True)
        write(error)
