"""Shared test configuration: paths, the `slow` marker and hypothesis profiles."""
from __future__ import annotations

import importlib
import locale
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MECHANISMS = REPO / "mechanisms"
SHARED = REPO.parent / "shared"


def require_module(name: str, extra: str):
    """Import ``name`` or skip with the reason; in CI (which installs every extra) a missing module fails."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI; `.ci/run` must install the `{extra}` extra")
        pytest.skip(f"{name} is not installed (pip install -e '.[{extra}]')")

# Too-slow health checks fire on a loaded 2-core CI machine without telling us anything.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def repo() -> Path:
    return REPO


def pytest_collection_modifyitems(config, items):
    if os.environ.get("FENTONSIM_SKIP_SLOW"):
        skip = pytest.mark.skip(reason="FENTONSIM_SKIP_SLOW is set")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """Write mechanisms/VALIDATION.md from the validation targets this run compared — only for a completed run
    of the whole suite, so a selection (-k, -m, a file, -x) or an interrupted run never replaces the full
    report with a partial one."""
    import validation

    option = session.config.option
    whole_suite = (not option.keyword and not option.markexpr and not getattr(option, "deselect", None)
                   and not option.maxfail and not session.shouldstop
                   and [Path(a).resolve() for a in session.config.args] in ([], [REPO / "tests"]))
    # 0: all passed, 1: some failed (the report lists them); an interrupted or stopped run keeps the old report.
    completed = exitstatus in (0, 1)
    if validation.RECORDS and completed and (whole_suite or os.environ.get("FENTONSIM_VALIDATION_REPORT")):
        validation.write_report()


#: The character-type locale the session started with. COPASI (basico) switches the C library's LC_CTYPE to
#: "C" when it loads, after which Python's default text encoding is ASCII and any later test reading a UTF-8
#: file without an explicit encoding fails — an order dependence, not a fentonsim bug.
_SESSION_CTYPE = locale.setlocale(locale.LC_CTYPE)


@pytest.fixture(autouse=True)
def _keep_the_session_locale():
    yield
    if locale.setlocale(locale.LC_CTYPE) != _SESSION_CTYPE:
        locale.setlocale(locale.LC_CTYPE, _SESSION_CTYPE)
