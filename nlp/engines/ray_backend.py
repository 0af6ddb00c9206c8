"""The Ray engine: batch steps on an actor pool, tasks for ``start_map``.

- ``batches(make)``: ``workers`` actors (one CPU each) each call ``make()`` once (the
  model loads once per actor) and run frames sent to them; the driver keeps
  ``IN_FLIGHT`` frames queued per actor, so an actor never waits for the next frame, and
  hands results back as they finish. Measured against Ray Data ``map_batches`` with an
  actor pool in ``benchmarks/scale.py``: the same total time within the noise, but Ray
  Data wants the pending texts as a dataset first, while the pool streams the pages the
  driver reads out of the store (less memory, RESULTS.md "Scale-out on Ray").
- ``start_map(fn, items, shared)``: ``shared`` is put in the object store once (a tuple
  part by part, and a part that is still alive from an earlier call is not put again);
  one task per item (numpy columns reach the workers without a copy).
- A worker that dies is restarted (``MAX_RESTARTS``) and its batch or task run again
  (``MAX_RETRIES``); a batch that still comes back failed (Ray can answer "actor
  unavailable" for a task caught while its actor restarts) is sent again by the driver,
  up to ``MAX_RETRIES`` times. Results are keyed, so a batch that was written before the
  death is not written twice.
- An address that cannot be reached fails within ``CONNECT_TIMEOUT_S`` with the address in
  the message (Ray's own connect would retry for minutes or end the process).

Each actor's threads (ONNX Runtime, torch) are held to its CPUs through
``UNDERTOW_THREADS``, so two actors on two cores do not oversubscribe them.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pandas as pd
import ray

from nlp.engines import (
    BatchStep,
    EngineError,
    EngineUnavailableError,
    RunBatches,
    one_thread,
    release_memory,
)

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 600.0  # actors loading their model (the int8 export is built on first use)
IN_FLIGHT = 2
MAX_RESTARTS = 3
MAX_RETRIES = 3
RETRY_WAIT_S = 0.5  # before a frame whose actor died is sent again (it restarts meanwhile)
DEFAULT_PORT = 6379  # a head's GCS
CLIENT_PORT = 10001  # Ray Client (ray://)


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of ``host:port`` or ``ray://host:port``; None for ``auto``."""
    if address == "auto":
        return None
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep:
        return rest, CLIENT_PORT if address.startswith("ray://") else DEFAULT_PORT
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise EngineUnavailableError(
            f"Ray address {address!r} is not host:port (e.g. 10.0.0.5:6379 or ray://head:10001)"
        ) from None


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(3) + b"\x04" + bytes(5)
SETTINGS_FRAME = 0x04


def check_reachable(address: str, timeout: float | None = None) -> None:
    """Raise EngineUnavailableError (naming ``address``) unless a gRPC server answers
    there within ``timeout`` (default ``CONNECT_TIMEOUT_S``): a Ray head's GCS (or Ray
    Client server) answers the HTTP/2 preface with a SETTINGS frame. Anything else would
    keep ``ray.init`` retrying for minutes, or end the process."""
    target = _host_port(address)
    if target is None:
        return
    wait = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        with socket.create_connection(target, timeout=wait) as conn:
            conn.settimeout(wait)
            conn.sendall(HTTP2_PREFACE)
            header = conn.recv(9)
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise EngineUnavailableError(
            f"cannot reach the Ray cluster at {address} ({reason}); check --ray-address or "
            "UNDERTOW_RAY_ADDRESS, and that `ray start --head` runs there"
        ) from exc
    if len(header) < 9 or header[3] != SETTINGS_FRAME:
        raise EngineUnavailableError(
            f"{address} answers, but not as a Ray cluster (no gRPC); give the head's GCS "
            "port (6379 by default) or a ray:// client address"
        )


# Ray's own notices (a local instance started, its token) are not for our users: commands
# print their own progress; task errors still come back as exceptions.
QUIET: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}


def start_local(num_cpus: int | None = None, object_store_memory: int | None = None) -> None:
    """A Ray instance on this machine for this process. Its workers run at the driver's
    priority: Ray's default (nice 15) leaves them the CPU other jobs do not want, which on a
    shared machine made the Ray fit slower than the local engine's one process."""
    ray.init(
        address="local",  # a new instance even when `ray start` runs on this machine
        num_cpus=num_cpus,
        object_store_memory=object_store_memory,
        include_dashboard=False,
        _system_config={"worker_niceness": 0},
        **QUIET,
    )


@contextmanager
def _native_stderr_quiet() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the block (native code writes there directly);
    a refused connection then ends in our one line, not in a page of retries."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def connect(
    address: str | None, workers: int | None, preload: Sequence[str] = ()
) -> Iterator[RayEngine]:
    """A RayEngine on the cluster at ``address``, or on a local instance started (and shut
    down) here; a connection this process already holds is used and left open.
    ``preload``: modules the workers import at once (``RayEngine.warm``), while the
    driver still reads its inputs, so the first tasks do not wait for them."""
    owned = False
    if not ray.is_initialized():
        if address:
            check_reachable(address)
            try:
                with _native_stderr_quiet():  # Ray's C++ client logs each retry there
                    ray.init(address=address, **QUIET)
            except (ConnectionError, RuntimeError, ray.exceptions.RayError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise EngineUnavailableError(
                    f"cannot connect to the Ray cluster at {address} ({first}); check "
                    "--ray-address or UNDERTOW_RAY_ADDRESS and the cluster's auth token "
                    "(RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH)"
                ) from exc
        else:
            start_local()
        owned = True
    try:
        engine = RayEngine(workers)
        engine.warm(preload)
        yield engine
    finally:
        if owned:
            ray.shutdown()


class _BatchActor:
    """One worker of ``batches``: builds the step once, then runs frames through it."""

    def __init__(self, make: Callable[[], BatchStep], threads: int) -> None:
        os.environ["UNDERTOW_THREADS"] = str(threads)
        self.step = make()

    def ready(self) -> int:
        return os.getpid()

    def run(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.step(frame)


class _Parts:
    """A shared tuple whose parts went to the object store one by one (``RayEngine._put``)."""

    def __init__(self, refs: tuple[Any, ...]) -> None:
        self.refs = refs


def _apply(fn: Callable[[Any, Any], Any], shared: Any, item: Any) -> Any:
    if isinstance(shared, _Parts):
        shared = tuple(ray.get(list(shared.refs)))
    return one_thread(fn, shared, item)


def _died(exc: Exception) -> EngineError:
    return EngineError(
        f"a Ray worker died {MAX_RETRIES + 1} times on the same work ({exc}); "
        "see the worker logs under /tmp/ray/session_latest/logs"
    )


def _import(_: Any, names: Sequence[str]) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


class RayEngine:
    """The Ray engine on the cluster this process is connected to (see the module doc)."""

    name = "ray"
    distributed = True

    def __init__(self, workers: int | None = None) -> None:
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.workers = max(1, workers or self.cpus)
        self._warming: list[Any] = []
        self._puts: dict[int, tuple[weakref.ref[Any], Any]] = {}
        actor = ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RETRIES)
        self._actor: Any = actor(_BatchActor)
        self._task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_apply)

    def warm(self, modules: Sequence[str]) -> None:
        """Have each worker import ``modules`` now (one task per CPU, not waited for): a
        worker keeps what it imported for the tasks it runs next."""
        if modules:
            self._warming = [
                self._task.remote(_import, None, tuple(modules)) for _ in range(self.cpus)
            ]

    def wait_warm(self) -> None:
        """Block until the ``warm`` imports are done (a benchmark's clock starts after)."""
        ray.get(self._warming)

    @contextmanager
    def batches(self, make: Callable[[], BatchStep]) -> Iterator[RunBatches]:
        actors: list[Any] = [self._actor.remote(make, 1) for _ in range(self.workers)]
        try:
            ready = [a.ready.remote() for a in actors]
            done, waiting = ray.wait(ready, num_returns=len(ready), timeout=READY_TIMEOUT_S)
            if waiting:
                raise EngineError(
                    f"only {len(done)} of {len(ready)} Ray workers started within "
                    f"{READY_TIMEOUT_S:.0f} s: ask for fewer (--ray-workers) or add nodes"
                )
            ray.get(done)  # a worker whose model cannot load raises its error here
            yield lambda frames: self._run(actors, frames)
        finally:
            for actor in actors:
                ray.kill(actor)

    def _run(self, actors: list[Any], frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        free = deque(actors * IN_FLIGHT)
        running: dict[Any, tuple[Any, pd.DataFrame, int]] = {}  # ref -> actor, frame, tries
        todo = iter(frames)
        more = True
        while True:
            while more and free:
                frame = next(todo, None)
                if frame is None:
                    more = False
                    break
                actor = free.popleft()
                running[actor.run.remote(frame)] = (actor, frame, 0)
            if not running:
                return
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                actor, frame, tries = running.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    # Ray retries a dead actor's tasks itself, but a task caught while its
                    # actor restarts can still come back as unavailable: send the frame
                    # again (results are keyed, a rerun writes nothing twice)
                    if tries >= MAX_RETRIES:
                        raise _died(exc) from exc
                    time.sleep(RETRY_WAIT_S * (tries + 1))
                    running[actor.run.remote(frame)] = (actor, frame, tries + 1)
                    continue
                free.append(actor)
                yield result

    def start_map(
        self, fn: Callable[[Any, T], R], items: Sequence[T], shared: Any = None
    ) -> Callable[[], list[R]]:
        if isinstance(shared, tuple):
            shared_ref: Any = _Parts(tuple(self._put(part) for part in shared))
        else:
            shared_ref = self._put(shared)
        task = self._task.options(name=getattr(fn, "__qualname__", "task"))  # in Ray's dashboard
        refs = [task.remote(fn, shared_ref, item) for item in items]

        def wait() -> list[R]:
            release_memory()  # the driver waits: what it freed goes back to the machine
            return [self._get(ref) for ref in refs]

        return wait

    def _put(self, obj: Any) -> Any:
        """``obj`` in the object store, once while it lives: the fit's back-tests and list
        check share the same inputs (one copy in the store, not one per ``start_map``)."""
        hit = self._puts.get(id(obj))
        if hit is not None and hit[0]() is obj:
            return hit[1]
        ref = ray.put(obj)
        try:
            alive = weakref.ref(obj)
        except TypeError:  # tuples, numbers, strings: small, put again next time
            return ref
        self._puts[id(obj)] = (alive, ref)
        weakref.finalize(obj, self._puts.pop, id(obj), None)
        return ref

    @staticmethod
    def _get(ref: Any) -> Any:
        try:
            return ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
            raise _died(exc) from exc
