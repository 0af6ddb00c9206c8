"""HTTP latency and throughput of the API on loopback, next to a trivial FastAPI route.

    .venv/bin/python benchmarks/api.py [--accounts 10000] [--requests 2000] [--seconds 20]
                                       [--concurrency 8] [--write-results]

What it does, all on 127.0.0.1 and bounded (it stops by itself):
1. builds a store of ``--accounts`` accounts in a temporary SQLite file: a risk snapshot
   (predictions + 12 monthly trajectory points each) and 3 scored texts per account in
   the 90 days before as-of, inserted through the tables (the interface);
2. starts one uvicorn worker in a subprocess serving ``create_app()`` plus a trivial route
   (``/bench/trivial``: 50 small objects, the reference measured in the same run);
3. drives each scenario with a small asyncio HTTP/1.1 keep-alive client (``--concurrency``
   connections, at most ``--requests`` requests or ``--seconds`` seconds each, after a
   warm-up) and prints p50/p99 latency and requests/s, with the ratio to the trivial route.

Server and load generator share the machine's cores, as they do in the figures of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = date(2026, 10, 31)
RUN_ID = "bench-run"


# ---------------------------------------------------------------- the store
def build_store(url: str, n_accounts: int, seed: int = 7) -> dict[str, str]:
    """Populate the tables; returns one key per role used by the scenarios."""
    from sqlalchemy import insert

    from api.keys import create_key
    from ingest.db.engine import open_store
    from ingest.db.schema import (
        accounts,
        documents,
        risk_predictions,
        risk_runs,
        risk_trajectories,
        sentiment_scores,
    )
    from ingest.settings import Settings

    rng = random.Random(seed)
    engine = open_store(Settings(database_url=url))
    now = datetime(2026, 11, 1)
    segments = ("enterprise", "mid", "smb")
    acc, pred, traj, docs, scores = [], [], [], [], []
    for i in range(n_accounts):
        aid = f"ACC{i:06d}"
        seg = segments[i % 3]
        arr = round(rng.lognormvariate(10, 1), 2)
        level, trend = rng.uniform(-0.6, 0.6), rng.uniform(-0.4, 0.4)
        p90 = min(0.95, max(0.01, 0.15 - trend * 0.4 + rng.uniform(-0.05, 0.05)))
        acc.append(
            dict(
                account_id=aid, name=f"Company {i}", name_norm=f"company {i}",
                domain=f"c{i}.example", segment=seg, arr=arr, currency="USD",
                contract_start=date(2023, 1, 1), tracked_source="organic_search", source="bench",
                source_file="accounts.csv", source_line=i + 2, row_hash=f"a{i}", updated_at=now,
            )
        )  # fmt: skip
        row = dict(
            run_id=RUN_ID, account_id=aid, arr=arr, segment=seg, sentiment=level,
            sentiment_trend=trend, expected_ltv=arr * 3.0,
            reason="sentiment fell over 90 days; more tickets", drivers=[],
        )  # fmt: skip
        for h, f in ((90, 1.0), (180, 1.7), (365, 2.5)):
            p = min(0.99, p90 * f)
            row |= {
                f"p_churn_{h}d": p,
                f"p_churn_{h}d_low": p * 0.7,
                f"p_churn_{h}d_high": min(1.0, p * 1.3),
            }
        pred.append(row)
        for m in range(12):
            month = date(2025 + (m + 10) // 12, (m + 10) % 12 + 1, 1)
            traj.append(
                dict(run_id=RUN_ID, account_id=aid, month=month, sentiment=level, n_texts=2)
            )
        for k in range(3):
            text = f"Ticket {k} of company {i}: the export job failed again and support was slow."
            h = hashlib.sha256(text.encode()).hexdigest()
            docs.append(
                dict(
                    kind="ticket", source="bench", source_id=f"T{i}-{k}", account_id=aid,
                    resolved_by="account_id", created_at=datetime(2026, 10, 1) + timedelta(days=k * 9),
                    text=text, text_hash=h, content_hash=h, text_chars=len(text), truncated=False,
                    source_file="tickets.csv", source_line=3 * i + k + 2, row_hash=h,
                )
            )  # fmt: skip
            scores.append(
                dict(text_hash=h, model_version="bench-sent", p_negative=0.6, p_neutral=0.2,
                     p_positive=0.2, sentiment=rng.uniform(-1, 1), n_chunks=1, scored_at=now)
            )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            insert(risk_runs).values(
                run_id=RUN_ID, as_of=AS_OF, created_at=now, model_version="bench-model",
                sentiment_model_version="bench-sent", status="complete", n_accounts=n_accounts,
                params={}, metrics={},
            )
        )  # fmt: skip
        for table, rows in (
            (accounts, acc),
            (risk_predictions, pred),
            (risk_trajectories, traj),
            (documents, docs),
            (sentiment_scores, scores),
        ):
            for lo in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[lo : lo + 5000])
    keys = {role: create_key(engine, role)["key"] for role in ("sales", "finance")}
    engine.dispose()
    return keys


# ---------------------------------------------------------------- the server
def serve(port: int) -> None:
    """Subprocess entry point: the real app plus the trivial reference route."""
    import logging

    import uvicorn

    from api.app import create_app

    # the access log is written (its cost is part of every request), to nowhere
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # noqa: SIM115
    app = create_app()

    @app.get("/bench/trivial")
    def trivial() -> list[dict[str, Any]]:
        return [{"id": i, "name": f"item {i}", "value": i * 1.5} for i in range(50)]

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


# ---------------------------------------------------------------- the load generator
async def _request(reader: Any, writer: Any, raw: bytes) -> int:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def load(
    port: int, path: str, headers: dict[str, str], n: int, seconds: float, conns: int
) -> dict[str, Any]:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0
    budget = {"left": n}
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(2):  # warm-up, not measured
                await _request(reader, writer, raw)
            while budget["left"] > 0 and time.perf_counter() < deadline:
                budget["left"] -= 1
                t0 = time.perf_counter()
                status = await _request(reader, writer, raw)
                latencies.append(time.perf_counter() - t0)
                errors += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    if len(latencies) < 2:
        raise RuntimeError(f"{path}: fewer than 2 requests in {seconds}s; raise --seconds")
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "rps": len(latencies) / elapsed,
    }


def run_server_scenarios(
    url: str, cache_s: str, scenarios: list[tuple[str, str, dict[str, str]]], args: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Start one worker, drive each scenario, stop the worker (always)."""
    port = free_port()
    env = {
        **os.environ,
        "UNDERTOW_DATABASE_URL": url,
        "UNDERTOW_API_RATE_LIMIT": "0",
        "UNDERTOW_API_CACHE_SECONDS": cache_s,
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve", str(port)], env=env, cwd=str(ROOT)
    )
    results = []
    try:
        wait_until_up(port)
        for label, path, headers in scenarios:
            n = args.requests if "csv" not in path else min(args.requests, 100)
            r = asyncio.run(load(port, path, headers, n, args.seconds, args.concurrency))
            results.append((label, r))
            print(
                f"{label:58s} n={r['requests']:5d} err={r['errors']} "
                f"p50={r['p50_ms']:7.1f} ms  p99={r['p99_ms']:7.1f} ms  {r['rps']:7.1f} req/s"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=2_000, help="per scenario, at most")
    ap.add_argument("--seconds", type=float, default=20.0, help="per scenario, at most")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--write-results", action="store_true", help="append to benchmarks/RESULTS.md")
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return

    tmp = Path(tempfile.mkdtemp(prefix="undertow-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    t0 = time.perf_counter()
    keys = build_store(url, args.accounts)
    print(f"store: {args.accounts} accounts in {time.perf_counter() - t0:.1f}s ({url})")
    sales = {"Authorization": f"Bearer {keys['sales']}"}
    finance = {"Authorization": f"Bearer {keys['finance']}"}
    feeds = [
        ("GET /v1/signals?list=risk&limit=50", "/v1/signals?list=risk&limit=50", sales),
        ("GET /v1/churn-risk?limit=100 (JSON page)", "/v1/churn-risk?limit=100", finance),
        ("GET /v1/churn-risk?limit=1000 (JSON page)", "/v1/churn-risk?limit=1000", finance),
        ("GET /v1/churn-risk?format=csv (whole feed)", "/v1/churn-risk?format=csv", finance),
    ]
    results: list[tuple[str, dict[str, Any]]] = []
    # page cache on (the default), then off: every request renders from the store
    for cache_s, tag in (("30", "cached"), ("0", "uncached")):
        scenarios = (
            [("trivial FastAPI route (50 objects)", "/bench/trivial", {})]
            if tag == "cached"
            else []
        )
        scenarios += [(f"{label} [{tag}]", path, h) for label, path, h in feeds]
        results += run_server_scenarios(url, cache_s, scenarios, args)
    ref = results[0][1]
    print(f"\nerrors (any status but 200): {sum(r['errors'] for _, r in results)}")
    print("ratio to the trivial route (req/s):")
    for label, r in results[1:]:
        print(f"  {label:58s} {r['rps'] / ref['rps']:.2f}x")
    if args.write_results:
        write_results(args, results)


def write_results(args: argparse.Namespace, results: list[tuple[str, dict[str, Any]]]) -> None:
    ref = results[0][1]
    lines = [
        "",
        f"## API latency and throughput (`benchmarks/api.py`, {date.today().isoformat()})",
        "",
        f"Command: `.venv/bin/python benchmarks/api.py --accounts {args.accounts} --requests "
        f"{args.requests} --seconds {args.seconds:g} --concurrency {args.concurrency} --write-results`",
        "",
        f"Machine: {os.cpu_count()} vCPU, no GPU, Python {platform.python_version()}; one uvicorn "
        f"worker and the asyncio load generator on the same cores, loopback, {args.concurrency} "
        f"keep-alive connections, at most {args.requests} requests or {args.seconds:g} s per "
        f"scenario. SQLite store of {args.accounts} accounts (snapshot + 12 trajectory months + "
        "3 scored texts each). Reference: a trivial FastAPI route returning 50 small objects, "
        "same worker, same run. [cached]: the default per-worker page cache "
        "(`api/page_cache.py`); [uncached]: `UNDERTOW_API_CACHE_SECONDS=0`.",
        "",
        "| scenario | requests | errors | p50 ms | p99 ms | req/s | vs trivial |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in results:
        lines.append(
            f"| {label} | {r['requests']} | {r['errors']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['rps']:.0f} | {r['rps'] / ref['rps']:.2f}x |"
        )
    with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(json.dumps({"written": "benchmarks/RESULTS.md"}))


if __name__ == "__main__":
    main()
