"""Scale-out on Ray, all in one run: scoring, the writer, and the churn fit, local vs Ray.

    .venv/bin/python benchmarks/scale.py [--accounts 400] [--fit-accounts 100000] [--repeat 3]
                                         [--postgres URL] [--skip-fit] [--skip-score]
                                         [--command-accounts 100000]

Every measured run is a fresh child process (Ray, when used, is started inside it as a
local instance with 2 CPUs); the parent samples the child's whole process tree (Ray's
GCS, raylet and workers included) every 0.2 s and reports the peak of the summed PSS
(proportional set size: shared pages such as the object store counted once) and of the
summed RSS, and the sampler's own CPU seconds.

1. Scoring (sentiment, the served int8 model): a demo world of ``--accounts`` accounts x
   24 months is ingested into SQLite once; each run scores a copy of that store.
   ``local`` (this process, 2 ONNX threads), ``ray x1`` and ``ray x2`` (actor pool of 1
   and 2 workers, the driver writing), and ``ray data x2`` (the same step in Ray Data
   ``map_batches`` with an actor pool, for the choice of engine). texts/s is the scoring
   loop's wall time, model load excluded (Ray Data: from its first result on, as it starts
   its actors lazily); ``total`` is the child's whole run: imports, starting Ray and the
   actors, reading and writing the store.
   Each Ray run's scores are compared with the local run's (max |diff| per text), and one
   more run splits batches by the worker's own thread (parts=1) to show what int8 dynamic
   quantization does when a batch is cut differently. The scoring runs are timed while
   PSS is sampled: all but ``ray x1`` keep both cores busy (the local engine with its two
   threads), so the sampler's cost falls alike on the engines compared.
2. The writer: ``nlp.result_rows.write_rows`` of sentiment rows in batches of 128 (the
   driver's share of scoring), into SQLite and, with ``--postgres``, PostgreSQL.
3. The fit (``risk.fit.compute_fit``, store I/O excluded, as ``benchmarks/fit.py``) at
   ``--fit-accounts`` x 24 months: local, then Ray (2 CPUs, workers warmed while the
   world is read). One pair is sampled for PSS (memory), then ``--repeat`` pairs
   back to back are timed with RSS sampling only (PSS sampling would take a sixth of a
   core from the Ray run, see ``TreeMemory``); every pair's results are checked
   identical, and the median of the timed pairs' ratios is printed. The world is generated
   once, compacted (as ``risk.inputs.load_inputs`` returns a store's) and written; each
   run reads it (``child_world``).
4. With ``--command-accounts N``: ``undertow fit --engine local|ray`` itself on a SQLite
   store of that world at N accounts (written once, ``child_store``), reading the store
   and writing the snapshot as a user's run does; its wall time and peak PSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    sys.path.pop(0)  # benchmarks/ingest.py would shadow the ``ingest`` package
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests" / "support"))  # synthetic_world
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


# ---------------------------------------------------------------- process-tree memory
class TreeMemory:
    """Peak summed RSS, and with ``pss`` the peak summed PSS, of a process and all its
    descendants, sampled every ``every`` seconds; ``cpu_s`` is the sampler's own CPU.

    PSS makes the kernel walk every page table of every process at each sample: for a
    Ray fit's process tree that took 6.2 CPU-s of this process per run at 0.2 s, a sixth
    of a core taken from an engine that keeps both cores busy (the local engine leaves
    one free for it). So timed runs sample RSS only (``/proc/PID/statm``, counters), and
    PSS is measured in runs of its own (``bench_fit``)."""

    def __init__(self, pid: int, every: float = 0.2, pss: bool = True) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.every, self.pss = every, pss
        self.peak_pss = self.peak_rss = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        cpu0 = time.thread_time()
        while not self._stop.is_set():
            pss = rss = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    info = p.memory_full_info() if self.pss else p.memory_info()
                except psutil.Error:
                    continue
                pss += getattr(info, "pss", info.rss)
                rss += info.rss
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.cpu_s = time.thread_time() - cpu0
            self._stop.wait(self.every)

    def stop(self) -> dict[str, float | None]:
        self._stop.set()
        self._thread.join()
        return {
            "peak_pss_gb": round(self.peak_pss / 1e9, 2) if self.pss else None,
            "peak_rss_gb": round(self.peak_rss / 1e9, 2),
            "sampler_cpu_s": round(self.cpu_s, 2),
        }


def sampled(
    cmd: list[str], pss: bool, timeout: float = 1800, env: dict[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """Run ``cmd`` with its process tree sampled (``TreeMemory``): (stdout, memory and
    wall seconds); SystemExit with its stderr if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    memory = TreeMemory(proc.pid, pss=pss)
    out, err = proc.communicate(timeout=timeout)
    mem = memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[1:]} failed ({proc.returncode}):\n{err[-3000:]}")
    return out, {**mem, "wall_s": round(time.perf_counter() - t0, 1)}


def child(args: list[str], timeout: float = 1800, pss: bool = True) -> dict[str, Any]:
    """Run ``scale.py --child ...`` in a fresh process; its last stdout line is JSON.
    ``pss``: sample PSS as well as RSS (``TreeMemory``)."""
    out, mem = sampled([sys.executable, __file__, "--child", *args], pss, timeout)
    return {**json.loads(out.strip().splitlines()[-1]), **mem}


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


# ---------------------------------------------------------------- children
def start_ray() -> float:
    from nlp.engines.ray_backend import start_local

    t0 = time.perf_counter()
    start_local(num_cpus=2)  # as `undertow ... --engine ray` starts one
    return round(time.perf_counter() - t0, 2)


def child_score(db: str, data_dir: str, mode: str) -> dict[str, Any]:
    from ingest.db.engine import open_store
    from ingest.settings import Settings
    from nlp.scoring import score_store

    t0 = time.perf_counter()
    settings = Settings(database_url=f"sqlite:///{db}", data_dir=Path(data_dir))
    engine = open_store(settings)
    out: dict[str, Any] = {"mode": mode}
    if mode == "local":
        res = score_store(engine, settings)
    else:
        out["ray_init_s"] = start_ray()
        from nlp.engines.ray_backend import RayEngine

        workers = int(mode.rsplit("x", 1)[1])
        compute = RayEngine(workers)
        if mode.startswith("ray data"):
            res = _score_with_ray_data(engine, settings, workers)
        elif mode.startswith("ray parts=1"):
            res = _score_with_parts(engine, settings, compute, 1)
        else:
            res = score_store(engine, settings, compute=compute)
    out.update(scored=res["scored"], texts_per_second=res["texts_per_second"])
    out["total_s"] = round(time.perf_counter() - t0, 2)
    return out


class _DataStep:
    """The batch step as Ray Data's callable class (built once per actor)."""

    def __init__(self, make: Any) -> None:
        self.step = make()

    def __call__(self, batch: Any) -> Any:
        return self.step(batch)


def _score_with_ray_data(engine: Any, settings: Any, workers: int) -> dict[str, Any]:
    import ray.data

    from ingest.db.schema import sentiment_scores
    from nlp.result_rows import write_rows
    from nlp.scoring import SentimentStep, pending_batches
    from nlp.sentiment import current_model_version
    from nlp.sentiment.backends import default_threads

    version = current_model_version(settings)
    frames = list(pending_batches(engine, version))
    ds = ray.data.from_pandas(frames).map_batches(
        _DataStep,
        fn_constructor_args=(SentimentStep(settings, None, default_threads()),),
        batch_size=None,
        batch_format="pandas",
        concurrency=workers,
        num_cpus=1,
    )
    scored, first, t0 = 0, 0, 0.0
    for rows in ds.iter_batches(batch_size=None, batch_format="pandas"):
        write_rows(engine, sentiment_scores, rows, stamp="scored_at")
        if not scored:  # Ray Data starts its actors lazily: time from the first result on
            first, t0 = len(rows), time.perf_counter()
        scored += len(rows)
    rate = (scored - first) / (time.perf_counter() - t0)
    return {"scored": scored, "texts_per_second": round(rate, 1)}


def _score_with_parts(engine: Any, settings: Any, compute: Any, parts: int) -> dict[str, Any]:
    from ingest.db.schema import sentiment_scores
    from nlp.result_rows import write_rows
    from nlp.scoring import SentimentStep, pending_batches
    from nlp.sentiment import current_model_version

    version = current_model_version(settings)
    scored, t0 = 0, 0.0
    with compute.batches(SentimentStep(settings, None, parts)) as run:
        t0 = time.perf_counter()
        for rows in run(pending_batches(engine, version)):
            write_rows(engine, sentiment_scores, rows, stamp="scored_at")
            scored += len(rows)
    return {"scored": scored, "texts_per_second": round(scored / (time.perf_counter() - t0), 1)}


def child_world(n: int, path: str) -> dict[str, Any]:
    """The fit's world, generated once and written compact (as ``risk.inputs`` reads a
    store) for every fit run to load: a run's memory is then the fit's, not what the
    generator's temporaries left in the heap (0.6 GB at 100k accounts, fragments that
    neither the garbage collector nor ``malloc_trim`` hand back)."""
    import pickle

    from synthetic_world import make_world

    from risk.inputs import compact

    t0 = time.perf_counter()
    inputs = compact(make_world(n, months=24, seed=1).inputs)
    Path(path).write_bytes(pickle.dumps(inputs, protocol=5))
    return {"generate_s": round(time.perf_counter() - t0, 2)}


def child_fit(path: str, mode: str) -> dict[str, Any]:
    import pickle

    from risk.fit import RAY_PRELOAD, FitConfig, compute_fit

    out: dict[str, Any] = {"mode": mode}
    compute = None
    if mode == "ray":
        out["ray_init_s"] = start_ray()
        from nlp.engines.ray_backend import RayEngine

        compute = RayEngine()
        compute.warm(RAY_PRELOAD)  # imports happen while the world is read
    t0 = time.perf_counter()
    inputs = pickle.loads(Path(path).read_bytes())
    out["read_s"] = round(time.perf_counter() - t0, 2)
    if compute is not None:
        compute.wait_warm()  # the timed fit starts on warm workers
    t0 = time.perf_counter()
    result = compute_fit(inputs, FitConfig(), compute=compute)
    out["fit_s"] = round(time.perf_counter() - t0, 2)
    out["panel_rows"] = len(result.panel.rows)
    pred = result.forecast.predictions
    out["fingerprint"] = [
        result.model_version,
        json.dumps(result.backtest, sort_keys=True, default=str),
        float(pred["p_churn_180d"].sum()),
        float(pred["p_churn_365d_high"].sum()),
        json.dumps(result.forecast.revenue_risk, sort_keys=True),
    ]
    return out


def child_store(n: int, db: str) -> dict[str, Any]:
    """A SQLite store holding the fit's world (``synthetic_world.write_to_store``: accounts,
    texts with their scores, surveys, opportunities), for ``undertow fit`` to read."""
    from synthetic_world import make_world, write_to_store

    from ingest.db.engine import make_engine, upgrade

    t0 = time.perf_counter()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    world = make_world(n, months=24, seed=1)
    write_to_store(engine, world)
    return {"write_s": round(time.perf_counter() - t0, 1), "as_of": str(world.inputs.as_of.date())}


# ---------------------------------------------------------------- parent steps
def build_store(folder: Path, accounts: int) -> tuple[Path, int]:
    from ingest.db.engine import open_store
    from ingest.demo import build_world, write_world
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings

    db = folder / "base.db"
    settings = Settings(database_url=f"sqlite:///{db}", data_dir=folder / "data")
    engine = open_store(settings)
    paths = write_world(
        build_world(accounts=accounts, months=24, seed=7, end="2026-06-30"), folder / "world"
    )
    for kind in ("accounts", "opportunities", "reviews", "tickets", "surveys", "attribution"):
        ingest_paths(engine, kind, [paths[kind]], settings=settings)
    from nlp.scoring import count_pending
    from nlp.sentiment import current_model_version

    pending, _ = count_pending(engine, current_model_version(settings))
    engine.dispose()
    return db, pending


def read_scores(db: Path) -> dict[str, float]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT text_hash, sentiment FROM sentiment_scores"))


def bench_scoring(folder: Path, accounts: int) -> None:
    from ingest.settings import Settings
    from nlp.sentiment.export import ensure_onnx
    from nlp.sentiment.registry import current_artifacts

    db, texts = build_store(folder, accounts)
    data_dir = folder / "data"
    ensure_onnx(current_artifacts(Settings(data_dir=data_dir)), Settings(data_dir=data_dir))
    print(f"\n## scoring: demo world {accounts} accounts x 24 months, {texts} distinct texts "
          f"(load {load()})", flush=True)  # fmt: skip
    print(f"{'engine':<16}{'texts/s':>9}{'vs local':>10}{'total s':>9}{'ray init s':>12}"
          f"{'peak PSS GB':>13}{'peak RSS GB':>13}{'max |diff|':>12}", flush=True)  # fmt: skip
    reference: dict[str, float] | None = None
    local_rate = None
    for mode in ("local", "ray x1", "ray x2", "ray data x2", "ray parts=1 x2"):
        run_db = folder / f"{mode.replace(' ', '_')}.db"
        shutil.copy(db, run_db)
        res = child(["score", str(run_db), str(data_dir), mode])
        got = read_scores(run_db)
        if reference is None:
            reference, local_rate = got, res["texts_per_second"]
        diff = (
            max(abs(got[h] - reference[h]) for h in reference)
            if got.keys() == reference.keys()
            else float("nan")
        )
        print(f"{mode:<16}{res['texts_per_second']:>9.1f}{res['texts_per_second'] / local_rate:>9.2f}x"
              f"{res['total_s']:>9.1f}{res.get('ray_init_s', 0):>12.1f}{res['peak_pss_gb']:>13.2f}"
              f"{res['peak_rss_gb']:>13.2f}{diff:>12.4f}", flush=True)  # fmt: skip


def bench_writer(folder: Path, postgres: str | None, n: int = 50_000) -> None:
    import numpy as np
    import pandas as pd
    from sqlalchemy import create_engine, text

    from ingest.db.engine import make_engine, upgrade
    from ingest.db.schema import sentiment_scores
    from nlp.result_rows import write_rows
    from nlp.scoring import COMMIT_BATCH, RESULT_COLUMNS

    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], n)
    rows = pd.DataFrame(
        {
            "text_hash": [f"{i:032x}" for i in rng.permutation(n) * 7919],
            "model_version": "bench-writer",
            "p_negative": p[:, 0],
            "p_neutral": p[:, 1],
            "p_positive": p[:, 2],
            "sentiment": p[:, 2] - p[:, 0],
            "n_chunks": 1,
        }
    )[RESULT_COLUMNS]
    print(f"\n## the writer: {n:,} sentiment rows in batches of {COMMIT_BATCH} (load {load()})")
    targets = [("sqlite", f"sqlite:///{folder / 'writer.db'}")]
    if postgres:
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS undertow_bench_writer"))
            conn.execute(text("CREATE DATABASE undertow_bench_writer"))
        from sqlalchemy.engine import make_url

        targets.append(("postgresql", make_url(postgres).set(database="undertow_bench_writer")
                        .render_as_string(hide_password=False)))  # fmt: skip
    for name, url in targets:
        engine = make_engine(url)
        upgrade(engine)
        t0 = time.perf_counter()
        for lo in range(0, n, COMMIT_BATCH):
            write_rows(
                engine, sentiment_scores, rows.iloc[lo : lo + COMMIT_BATCH], stamp="scored_at"
            )
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()  # a rerun: every key is stored already
        for lo in range(0, 10_000, COMMIT_BATCH):
            write_rows(
                engine, sentiment_scores, rows.iloc[lo : lo + COMMIT_BATCH], stamp="scored_at"
            )
        again = 10_000 / (time.perf_counter() - t0)
        print(
            f"{name:<12}{n / seconds:>10,.0f} rows/s   (rerun of stored keys: {again:,.0f} rows/s)"
        )
        engine.dispose()
    if postgres:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS undertow_bench_writer"))
        admin.dispose()


def bench_fit(folder: Path, n: int, repeat: int) -> None:
    """One pair sampled for PSS (its times are shown, not counted), then ``repeat`` timed
    pairs sampling RSS only (``TreeMemory``: PSS sampling costs the Ray run a sixth of a
    core); the sampler's own CPU seconds are printed beside each run."""
    import statistics

    print(f"\n## fit: {n:,} accounts x 24 months, risk.fit.compute_fit (load {load()})", flush=True)
    world = folder / "fit-world.pkl"
    made = child(["world", str(n), str(world)], pss=False)
    print(f"(world generated once in {made['generate_s']:.1f} s; each run reads it)", flush=True)
    print(f"{'engine':<8}{'run':<7}{'fit s':>8}{'vs local':>10}{'ray init s':>12}{'peak PSS GB':>13}"
          f"{'peak RSS GB':>13}{'sampler s':>11}{'load':>7}", flush=True)  # fmt: skip
    ratios, same, pss = [], True, {}
    for k in range(repeat + 1):  # local then Ray, back to back: a shared machine's load drifts
        timed = k > 0
        results = {}
        for mode in ("local", "ray"):
            res = results[mode] = child(["fit", str(world), mode], pss=not timed)
            ratio = res["fit_s"] / results["local"]["fit_s"]
            if not timed:
                pss[mode] = res["peak_pss_gb"]
            shown = "-" if res["peak_pss_gb"] is None else f"{res['peak_pss_gb']:.2f}"
            print(f"{mode:<8}{'timed' if timed else 'memory':<7}{res['fit_s']:>8.1f}{ratio:>9.2f}x"
                  f"{res.get('ray_init_s', 0):>12.1f}{shown:>13}{res['peak_rss_gb']:>13.2f}"
                  f"{res['sampler_cpu_s']:>11.1f}{load():>7}", flush=True)  # fmt: skip
        if timed:
            ratios.append(results["ray"]["fit_s"] / results["local"]["fit_s"])
        same = same and results["local"]["fingerprint"] == results["ray"]["fingerprint"]
    print(
        f"panel rows {results['local']['panel_rows']:,}; Ray / local fit time: median "
        f"{statistics.median(ratios):.2f} of {repeat} timed pair(s); peak PSS local "
        f"{pss['local']:.2f} GB, Ray {pss['ray']:.2f} GB; Ray results identical to local: {same}"
    )


def bench_command(folder: Path, n: int) -> None:
    """``undertow fit`` itself, local then Ray, on a store of the fit's world: what a user
    runs, reading the store and writing the snapshot too; PSS sampled, so the times carry
    the sampler's cost (``TreeMemory``)."""
    db = folder / "command.db"
    print(f"\n## undertow fit on a SQLite store of {n:,} accounts x 24 months (load {load()})",
          flush=True)  # fmt: skip
    made = child(["store", str(n), str(db)], pss=False)
    print(f"(store written once in {made['write_s']:.0f} s)", flush=True)
    print(
        f"{'engine':<8}{'wall s':>8}{'peak PSS GB':>13}{'peak RSS GB':>13}{'load':>7}", flush=True
    )
    undertow = str(Path(sys.executable).with_name("undertow"))
    env = {**os.environ, "UNDERTOW_DATABASE_URL": f"sqlite:///{db}",
           "UNDERTOW_DATA_DIR": str(folder / "command-data")}  # fmt: skip
    for engine in ("local", "ray"):
        cmd = [undertow, "fit", "--engine", engine, "--as-of", made["as_of"], "--json"]
        _, mem = sampled(cmd, pss=True, env=env)
        print(f"{engine:<8}{mem['wall_s']:>8.1f}{mem['peak_pss_gb']:>13.2f}{mem['peak_rss_gb']:>13.2f}"
              f"{load():>7}", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=400, help="demo world for scoring")
    ap.add_argument("--fit-accounts", type=int, default=100_000)
    ap.add_argument("--postgres", default=os.environ.get("UNDERTOW_TEST_POSTGRES_URL"))
    ap.add_argument("--skip-score", action="store_true")
    ap.add_argument("--skip-fit", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="local/Ray fit pairs")
    ap.add_argument("--command-accounts", type=int, default=0,
                    help="also run `undertow fit` on a store of this many accounts (0: skip)")  # fmt: skip
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1 (the timed local/Ray pairs the ratio is the median of)")
    if args.child:
        kind, *rest = args.child
        if kind == "score":
            res = child_score(*rest)
        elif kind == "world":
            res = child_world(int(rest[0]), rest[1])
        elif kind == "store":
            res = child_store(int(rest[0]), rest[1])
        else:
            res = child_fit(*rest)
        print(json.dumps(res))
        return
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # the int8 export's quantization hint
    print(f"benchmarks/scale.py on {os.cpu_count()} CPUs; load average at start {load()}")
    with tempfile.TemporaryDirectory(prefix="undertow-scale-") as tmp:
        folder = Path(tmp)
        if not args.skip_score:
            bench_scoring(folder, args.accounts)
        bench_writer(folder, args.postgres)
        if not args.skip_fit:
            bench_fit(folder, args.fit_accounts, args.repeat)
        if args.command_accounts:
            bench_command(folder, args.command_accounts)
    print(f"\nload average at end {load()}")


if __name__ == "__main__":
    main()
