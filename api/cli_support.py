"""What every `undertow` command shares: settings and store access, output, error mapping.

Each command prints a human summary to stderr and, with ``--json``, one JSON object on
stdout. Exit codes are decided here and only here: 0 success, 2 usage or input error
(one line that says what to fix), 1 internal failure.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Engine

from ingest.errors import InputError, NotFoundError, UndertowError
from ingest.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    """Per-invocation state: the settings, and the store opened on first use."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    def engine(self) -> Engine:
        if self._engine is None:
            from ingest.db.engine import open_store

            self._engine = open_store(self.settings)
        return self._engine


def state(ctx: click.Context | None = None) -> CliState:
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = CliState(Settings.from_env())
    return root.obj  # type: ignore[no-any-return]


def console() -> Console:
    """The human channel: stderr, so stdout stays clean for --json."""
    return Console(stderr=True, highlight=False)


def _default(o: Any) -> Any:
    if isinstance(o, datetime | date):
        return o.isoformat()
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, set | tuple):
        return list(o)
    return str(o)


def emit(payload: dict[str, Any], as_json: bool, summary: str | None = None) -> None:
    """Print the human summary to stderr and, if asked, the JSON object to stdout."""
    if summary:
        console().print(summary)
    if as_json:
        sys.stdout.write(json.dumps(payload, default=_default, allow_nan=False) + "\n")
        sys.stdout.flush()


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr; yields ``advance(n)``. Quiet when stderr is no TTY
    unless UNDERTOW_PROGRESS=1."""
    import os

    show = sys.stderr.isatty() or os.environ.get("UNDERTOW_PROGRESS") == "1"
    if not show:

        def _quiet(n: int = 1) -> None:
            return None

        yield _quiet
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)

        def _advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield _advance


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Map library errors to the contract's exit codes with a one-line message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (InputError, NotFoundError) as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 2)
        except UndertowError as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 1)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # an internal failure: exit 1, one line, no traceback
            import os

            if os.environ.get("UNDERTOW_DEBUG"):
                raise
            fail(f"internal error ({type(exc).__name__}): {exc}", 1)

    return wrapper  # type: ignore[return-value]


class FiniteFloatRange(click.FloatRange):
    """A float in a range that also refuses nan, inf and numbers too large for a float
    (``click.FloatRange`` lets nan through: every comparison with it is false)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


def write_output(data: bytes, out: Path | None) -> None:
    """Write a command's file to ``out``, or to stdout without one; an unwritable path is
    an InputError that says so."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(
            f"cannot write {out}: {exc.strerror or exc}; pass --out a writable file path"
        ) from exc


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout."
)


def engine_options(fn: F) -> F:
    """``--engine local|ray``, ``--ray-address`` (or UNDERTOW_RAY_ADDRESS) and
    ``--ray-workers``: where a command's batch work runs (``nlp.engines``)."""
    fn = click.option("--ray-workers", type=click.IntRange(1, 4096), default=None,
                      help="Batch workers on Ray (default: one per CPU of the cluster).")(fn)  # fmt: skip
    fn = click.option("--ray-address", envvar="UNDERTOW_RAY_ADDRESS", default=None,
                      metavar="ADDR", help="A running Ray cluster (host:port, ray://host:port "
                      "or auto); default with --engine ray: start a local Ray instance.")(fn)  # fmt: skip
    return click.option("--engine", "engine_kind", type=click.Choice(["local", "ray"]),
                        default="local", show_default=True,
                        help="Run the batch work in this process or on Ray.")(fn)  # fmt: skip


@contextmanager
def compute_engine(
    kind: str, address: str | None, workers: int | None, preload: tuple[str, ...] = ()
) -> Iterator[Any]:
    """The compute engine the options name, open for the ``with`` block (``preload``: the
    modules Ray workers import as they start). UNDERTOW_RAY_ADDRESS is ignored by the
    local engine; an explicit --ray-address with it is a usage error."""
    from nlp.engines import open_engine

    if kind == "local" and address:
        source = click.get_current_context().get_parameter_source("ray_address")
        if source is not click.core.ParameterSource.COMMANDLINE:
            address = None
    with open_engine(kind, address, workers, preload) as engine:
        yield engine
