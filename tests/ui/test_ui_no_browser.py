"""The README's test command on a machine whose Chromium is missing or does not start:
the browser tests skip and say why (the rest of the suite is unaffected), unless
``UNDERTOW_REQUIRE_BROWSER=1`` (CI, which installs Chromium) asks for them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _run_browser_tests(
    tmp_path: Path, chromium: str, require: bool, hide_playwright: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "UNDERTOW_REQUIRE_BROWSER"}
    env["UNDERTOW_CHROMIUM"] = chromium
    if hide_playwright:  # a package of that name, first on the path, that fails to import
        fake = tmp_path / "hidden" / "playwright"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text('raise ImportError("hidden by the test")\n')
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(fake.parent), env.get("PYTHONPATH")]))
    if require:
        env["UNDERTOW_REQUIRE_BROWSER"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "test_ui_browser.py"), "-q", "-rs",
         "-p", "no:cacheprovider", "--rootdir", str(HERE.parents[1])],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def stub_chromium(tmp_path: Path) -> str:
    """What some machines have instead: a ``chromium`` that only says it is not there."""
    stub = tmp_path / "chromium"
    stub.write_text('#!/bin/sh\necho "chromium is provided by a snap: not installed" >&2\nexit 1\n')
    stub.chmod(0o755)
    return str(stub)


@pytest.mark.parametrize("kind", ["missing", "stub"])
def test_without_a_working_chromium_the_browser_tests_skip_and_say_why(
    tmp_path: Path, stub_chromium: str, kind: str
) -> None:
    chromium = str(tmp_path / "absent") if kind == "missing" else stub_chromium
    run = _run_browser_tests(tmp_path, chromium, require=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "5 skipped" in run.stdout
    why = "no Chromium at" if kind == "missing" else "does not start"
    assert why in run.stdout and chromium in run.stdout


def test_ci_asking_for_the_browser_tests_fails_without_a_working_chromium(
    tmp_path: Path, stub_chromium: str
) -> None:
    run = _run_browser_tests(tmp_path, stub_chromium, require=True)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "UNDERTOW_REQUIRE_BROWSER=1" in run.stdout and "skipped" not in run.stdout


def test_ci_asking_for_the_browser_tests_fails_without_playwright(tmp_path: Path) -> None:
    skipped = _run_browser_tests(tmp_path / "a", "/usr/bin/chromium", require=False, hide_playwright=True)
    assert skipped.returncode == 0 and "5 skipped" in skipped.stdout, skipped.stdout[-2000:]
    assert "playwright is not installed" in skipped.stdout
    failed = _run_browser_tests(tmp_path / "b", "/usr/bin/chromium", require=True, hide_playwright=True)
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "skipped" not in failed.stdout
