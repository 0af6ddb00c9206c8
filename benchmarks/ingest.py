"""Ingest throughput: rows per second for N ticket rows (default 1M) into SQLite and, if
reachable, PostgreSQL, next to ``pandas.read_csv`` of the same file in the same run.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--postgres-url URL] [--chunk-rows N]
                                          [--repeat N]

The file is generated in a temporary directory (about 200 bytes a row: realistic ticket
texts, ~5% with an e-mail or phone number to mask, some quoted newlines, ~1% rows that
fail validation). PostgreSQL is taken from --postgres-url or UNDERTOW_TEST_POSTGRES_URL;
a fresh database is created and dropped. ``--repeat N`` ingests into SQLite N times, each
into a new file after a fresh ``read_csv`` reference (a shared machine's speed drifts by a
quarter between minutes: every run is printed, then the median). Prints a table and one
JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

# This script is named like the package it measures: import the package, not itself.
sys.path[0] = str(Path(__file__).resolve().parents[1])

PHRASES = [
    "The export to CSV fails every night since the last update.",
    "Our admins cannot reset passwords for new users.",
    "Dashboards load slowly when we filter by region.",
    "Thanks for the quick fix, the team is happy again.",
    "We were charged twice on the last invoice.",
    "SSO login loops back to the sign-in page.",
    "Could you add an API endpoint for bulk updates?",
    "The mobile app crashes when uploading attachments.",
    "Great onboarding call, everything is clear now.",
    "Reports show yesterday's numbers until noon.",
]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_id", "account_id", "requester_email", "created_at", "subject",
                    "body", "status", "priority", "csat"])  # fmt: skip
        for i in range(rows):
            body = " ".join(rng.choices(PHRASES, k=3))
            roll = rng.random()
            if roll < 0.03:
                body += f" Reach me at user{i}@firm{i % 5000}.com."
            elif roll < 0.05:
                body += f" Call +1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}."
            elif roll < 0.08:
                body += "\nSecond paragraph with more detail."
            created = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
            if rng.random() < 0.01:
                created = "2025-02-30"  # rejected: not a date
            w.writerow([f"T{i}", f"A{i % 5000}", f"user{i % 900}@firm{i % 5000}.com", created,
                        f"Issue {i % 97}", body, rng.choice(["open", "pending", "solved"]),
                        rng.choice(["low", "normal", "high"]), rng.choice(["", "1", "3", "5"])])  # fmt: skip


def time_pandas(path: Path) -> tuple[int, float]:
    import pandas as pd

    t = time.perf_counter()
    n = len(pd.read_csv(path, dtype=str, keep_default_na=False))
    return n, time.perf_counter() - t


def time_ingest(url: str, path: Path, chunk_rows: int | None) -> dict[str, float]:
    from ingest.db.engine import open_store
    from ingest.pipeline import ingest_paths
    from ingest.readers import DEFAULT_CHUNK_ROWS
    from ingest.settings import Settings

    chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS
    settings = Settings(database_url=url)
    engine = open_store(settings)
    try:
        t = time.perf_counter()
        out = ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=chunk_rows)
        seconds = time.perf_counter() - t
        t = time.perf_counter()
        again = ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=chunk_rows)
        seconds_again = time.perf_counter() - t
    finally:
        engine.dispose()
    assert out.read == out.inserted + out.duplicates + out.rejected
    assert again.inserted == 0
    return {
        "read": out.read,
        "inserted": out.inserted,
        "rejected": out.rejected,
        "seconds": seconds,
        "rows_per_second": out.read / seconds,
        "reingest_rows_per_second": again.read / seconds_again,
    }


def postgres_ingest(url: str, path: Path, chunk_rows: int | None) -> dict[str, float] | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"ut_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional here
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped")
        return None
    try:
        target = make_url(url).set(database=name).render_as_string(hide_password=False)
        return time_ingest(target, path, chunk_rows)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk-rows", type=int, default=None, help="default: the pipeline's")
    ap.add_argument("--postgres-url", default=os.environ.get("UNDERTOW_TEST_POSTGRES_URL"))
    ap.add_argument("--repeat", type=int, default=1, help="SQLite runs (median reported)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.csv"
        t = time.perf_counter()
        generate(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s"
        )
        runs = []
        for k in range(args.repeat):
            n, secs = time_pandas(path)
            pandas_rps = n / secs
            print(f"pandas.read_csv      {pandas_rps:>10,.0f} rows/s  ({secs:.1f}s)")
            db = Path(tmp) / f"bench{k}.db"
            run = time_ingest(f"sqlite:///{db}", path, args.chunk_rows)
            run["pandas_read_csv_rows_per_second"] = pandas_rps
            for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                leftover.unlink(missing_ok=True)
            runs.append(run)
            print(
                f"ingest -> SQLite     {run['rows_per_second']:>10,.0f} rows/s  ({run['seconds']:.1f}s, "
                f"{run['rows_per_second'] / pandas_rps:.2f}x read_csv; re-ingest "
                f"{run['reingest_rows_per_second']:,.0f} rows/s; rejected {run['rejected']:,.0f})"
            )
        sqlite = sorted(runs, key=lambda r: r["rows_per_second"])[len(runs) // 2]  # the median
        if len(runs) > 1:
            rates = ", ".join(f"{r['rows_per_second']:,.0f}" for r in runs)
            print(
                f"SQLite median of {len(runs)} runs: {sqlite['rows_per_second']:,.0f} rows/s ({rates})"
            )
        pg = (
            postgres_ingest(args.postgres_url, path, args.chunk_rows) if args.postgres_url else None
        )
        if pg:
            print(
                f"ingest -> PostgreSQL {pg['rows_per_second']:>10,.0f} rows/s  ({pg['seconds']:.1f}s, "
                f"{pg['rows_per_second'] / pandas_rps:.2f}x read_csv; re-ingest "
                f"{pg['reingest_rows_per_second']:,.0f} rows/s)"
            )
        print(json.dumps({"rows": args.rows, "pandas_read_csv_rows_per_second": round(pandas_rps),
                          "sqlite": sqlite, "sqlite_runs": runs, "postgres": pg},
                         default=round))  # fmt: skip


if __name__ == "__main__":
    main()
