"""Where batch work runs: in this process (``local``) or on a Ray cluster (``ray``).

An engine offers the layers above two operations, and nothing else:

- ``batches(make)``: a context that builds a DataFrame-in/DataFrame-out step once per
  worker (``make()`` loads the model once) and gives ``run(frames)``, an iterator over
  each frame's result as it finishes (in any order when there are several workers).
  Scoring, aspect tagging and channel classification run through it.
- ``start_map(fn, items, shared)``: ``fn(shared, item)`` for every item, as tasks.
  It returns a function that waits and gives the results in item order. Locally nothing
  runs until that function is called; on Ray the tasks start at once, so the caller can
  work meanwhile, and ``shared`` (a big read-only object) goes to the object store once.
  The risk fit's back-test and forecast run through it. A task's BLAS runs on one thread
  wherever it runs (``one_thread``): a sum split over threads adds in another order, and
  the last bit of a result would depend on the engine.

``open_engine(kind, address, workers)`` is the one entry point of the composition roots.
Ray is imported only in ``nlp.engines.ray_backend``, and only when that engine is asked
for, so the product works without the ``ray`` extra.

Errors::

    UndertowError
     +-- EngineError                 the engine failed while working (a worker lost for good)
     +-- InputError
          +-- EngineUnavailableError  the engine cannot be used as asked (extra missing,
                                      cluster unreachable); the message names the address
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

import pandas as pd

from ingest.errors import InputError, UndertowError

ENGINES = ("local", "ray")

T = TypeVar("T")
R = TypeVar("R")
BatchStep = Callable[[pd.DataFrame], pd.DataFrame]
RunBatches = Callable[[Iterable[pd.DataFrame]], Iterator[pd.DataFrame]]


class EngineError(UndertowError):
    """The compute engine failed while working (e.g. a worker died more often than retried)."""


class EngineUnavailableError(InputError):
    """The engine cannot be used as asked: the message says what to install or check."""


class ComputeEngine(Protocol):
    name: str
    workers: int
    distributed: bool  # work leaves this process: arguments are shipped, not shared

    def batches(self, make: Callable[[], BatchStep]) -> AbstractContextManager[RunBatches]: ...

    def start_map(
        self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None
    ) -> Callable[[], list[R]]: ...


class LocalEngine:
    """Everything in this process, one batch or task after another."""

    name = "local"
    workers = 1
    distributed = False

    @contextmanager
    def batches(self, make: Callable[[], BatchStep]) -> Iterator[RunBatches]:
        step = make()

        def run(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            return (step(frame) for frame in frames)

        yield run

    def start_map(
        self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None
    ) -> Callable[[], list[R]]:
        todo = list(items)
        return lambda: [one_thread(fn, shared, item) for item in todo]


def one_thread(fn: Callable[[Any, T], R], shared: Any, item: T) -> R:
    """``fn(shared, item)`` with BLAS and OpenMP held to one thread (the task's own CPU)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return fn(shared, item)


LOCAL = LocalEngine()


def release_memory() -> None:
    """Hand the heap memory this process has freed back to the operating system. glibc
    keeps freed heap memory for reuse: after a 100k-account panel was built, the
    temporaries it freed stayed in the process while the model was fitted on top of
    them, and a Ray driver held 0.4 GB it no longer used while it waited. Called after a
    panel is built and before a driver waits; elsewhere than glibc it does nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)


@contextmanager
def open_engine(
    kind: str = "local",
    address: str | None = None,
    workers: int | None = None,
    preload: Sequence[str] = (),
) -> Iterator[ComputeEngine]:
    """The engine ``kind`` for the length of the ``with`` block.

    ``ray``: connects to the cluster at ``address`` (``host:port``, ``ray://host:port`` or
    ``auto``), or starts a local Ray instance when there is none, and shuts down what it
    started. ``workers``: batch workers (default: one per CPU of the cluster).
    ``preload``: modules each Ray worker imports as it starts (what the work will need).
    """
    if kind == "local":
        if address:
            raise EngineUnavailableError(
                f"a Ray address ({address}) was given with the local engine: add --engine ray"
            )
        yield LOCAL
        return
    if kind != "ray":
        raise EngineUnavailableError(
            f"unknown engine {kind!r}; expected one of {', '.join(ENGINES)}"
        )
    try:
        from nlp.engines.ray_backend import connect
    except ImportError as exc:  # the optional extra is not installed
        raise EngineUnavailableError(
            f"the Ray engine needs the 'ray' extra ({exc}): pip install 'undertow[ray]'"
        ) from exc
    with connect(address, workers, preload) as engine:
        yield engine


__all__ = [
    "ENGINES",
    "LOCAL",
    "BatchStep",
    "ComputeEngine",
    "EngineError",
    "EngineUnavailableError",
    "LocalEngine",
    "RunBatches",
    "one_thread",
    "open_engine",
    "release_memory",
]
