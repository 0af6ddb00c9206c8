"""Helpers of the hostile-input suite: run the CLI as a user would, and hold every ingest
to the contract's accounting (read = inserted + duplicates + rejected)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from click.testing import CliRunner, Result

from api.cli import cli


def undertow(env: dict[str, str], *args: str, code: int | None = 0) -> Result:
    """``undertow ARGS`` in-process; asserts the exit code unless ``code`` is None."""
    result = CliRunner().invoke(cli, list(args), env=env)
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.output)
    return result


def ingest_json(env: dict[str, str], kind: str, *paths: str) -> dict[str, Any]:
    """``undertow ingest KIND PATHS --json``: exit 0 and an accounted summary."""
    out: dict[str, Any] = json.loads(undertow(env, "ingest", kind, *paths, "--json").stdout)
    assert out["read"] == out["inserted"] + out["duplicates"] + out["rejected"], out
    return out


def error_line(result: Result) -> str:
    """The one line an exit-2 command printed (asserts it is one line, no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def at_once(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """``fn(0) .. fn(n - 1)`` in ``n`` threads released together; an exception is
    returned in its place, for the test to look at."""
    barrier = threading.Barrier(n)

    def go(i: int) -> Any:
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:  # noqa: BLE001 - returned, not swallowed
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))
