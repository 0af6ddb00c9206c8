"""Chunk preparation in worker processes.

Reading, validating and building a chunk's table rows is Python that holds the GIL;
in one process it takes turns with the writer thread (whose driver also needs the GIL
to bind values), so a two-core machine ran an ingest on about one core. Big files
(``pipeline``) hand their chunks to worker processes instead: the parent reads and
writes, the workers prepare, and results come back in file order.

A worker is ``python -m ingest.workers``, fed pickled frames on its stdin and
answering on its stdout. Not ``multiprocessing``: its ``spawn`` re-runs the caller's
main script in every child (harmful for a script without a ``__main__`` guard), and
``fork`` is unsafe in a process that runs threads (a progress bar, a server). A worker
runs with the cyclic collector off (see ``pipeline``), exits when its stdin closes
and, on Linux, is killed with its parent, so an ingest killed outright leaves no
process behind. Frames travel only between this process and the children it started.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import marshal
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

MAX_WORKERS = 4
_SETUP, _CALL = "setup", "call"  # the two kinds of frames a worker reads
_HEADER = struct.Struct("<Q")
_PR_SET_PDEATHSIG = 1


def worker_count() -> int:
    """Workers beside the parent: one per core (the parent, reading and writing, waits
    on the driver much of the time), none on a single core."""
    cores = os.cpu_count() or 1
    return min(MAX_WORKERS, cores) if cores > 1 else 0


def pack(value: Any) -> bytes:
    """``value`` as bytes for a worker or from one: marshal for plain data (lists,
    tuples, strings, numbers, None: what a chunk and its prepared rows are), which is
    2-3 times cheaper than pickle for millions of small strings; pickle otherwise."""
    try:
        return b"M" + marshal.dumps(value)
    except ValueError:  # e.g. datetime objects (the PostgreSQL driver's values)
        return b"P" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> Any:
    """The value of ``pack`` (same interpreter: workers run ``sys.executable``)."""
    if blob[:1] == b"M":
        return marshal.loads(blob[1:])  # noqa: S302 - bytes from our own parent or child
    return pickle.loads(blob[1:])  # noqa: S301 - bytes from our own parent or child


class WorkerError(RuntimeError):
    """A worker process died or answered nothing (its stderr has the details)."""


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - frames from our own parent or child only


class _Worker:
    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        root = str(Path(__file__).resolve().parents[1])  # where `ingest` is importable
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "ingest.workers", str(os.getpid()), *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="undertow-worker-io")
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in, self._out = self._proc.stdin, self._proc.stdout

    def configure(self, setup: Callable[[Any], Any], payload: Any) -> None:
        """The worker's state becomes ``setup(payload)`` (after what it was given before)."""
        self._io.submit(self._setup, setup, payload)

    def _setup(self, setup: Callable[[Any], Any], payload: Any) -> None:
        try:
            _send(self._in, (_SETUP, setup, payload))
        except (BrokenPipeError, OSError):
            pass  # a dead worker is reported by the next roundtrip

    def _roundtrip(self, fn: Callable[[Any, Any], Any], item: Any) -> Any:
        try:
            _send(self._in, (_CALL, fn, item))
            ok, value = _receive(self._out)
        except (EOFError, BrokenPipeError, OSError) as exc:
            code = self._proc.poll()
            raise WorkerError(f"ingest worker process stopped (exit code {code})") from exc
        if not ok:
            raise value
        return value

    def submit(self, fn: Callable[[Any, Any], Any], item: Any) -> Future[Any]:
        return self._io.submit(self._roundtrip, fn, item)

    def close(self, abort: bool = False) -> None:
        self._io.shutdown(wait=False, cancel_futures=True)
        if abort:  # a failed ingest: the chunk in hand is not wanted
            self._proc.kill()
        try:
            self._in.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._io.shutdown(wait=True)
        self._out.close()


class Workers:
    """``workers`` processes that run ``fn(state, item)`` for items handed to them in
    turn, their state built by ``setup(payload)``. The processes start at once and
    import the ``preload`` modules while the caller goes on; ``configure`` may come
    later, and again for the next file. ``setup`` and ``fn`` must be module-level
    functions (they travel by name)."""

    def __init__(
        self,
        workers: int,
        setup: Callable[[Any], Any] | None = None,
        payload: Any = None,
        preload: tuple[str, ...] = (),
    ) -> None:
        self._workers = [_Worker(preload) for _ in range(max(1, workers))]
        self._next = 0
        if setup is not None:
            self.configure(setup, payload)

    def configure(self, setup: Callable[[Any], Any], payload: Any) -> None:
        for worker in self._workers:
            worker.configure(setup, payload)

    def submit(self, fn: Callable[[Any, Any], Any], item: Any) -> Future[Any]:
        worker = self._workers[self._next % len(self._workers)]
        self._next += 1
        return worker.submit(fn, item)

    def close(self, abort: bool = False) -> None:
        """Let the workers finish and exit; ``abort``: kill them."""
        for worker in self._workers:
            worker.close(abort)


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: stdin closing at the parent's end must do
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _serve(parent: int, preload: list[str]) -> None:
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent(parent)
    for module in preload:  # ours only: the parent names them
        importlib.import_module(module)
    frames_in = sys.stdin.buffer
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, never into the frames
    state: Any = None
    try:
        while True:
            try:
                kind, fn, item = _receive(frames_in)
            except EOFError:
                return
            if kind == _SETUP:  # a failure here ends the worker: the parent sees it stop
                state = fn(item)
                continue
            try:
                answer: tuple[bool, Any] = (True, fn(state, item))
            except Exception as exc:  # noqa: BLE001 - it is raised again in the parent
                answer = (False, exc)
            try:
                _send(frames_out, answer)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                _send(frames_out, (False, WorkerError(f"unpicklable answer: {exc!r}")))
    except (BrokenPipeError, EOFError):
        return


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2:])
