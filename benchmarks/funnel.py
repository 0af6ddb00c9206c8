"""The revenue funnel's data path: ingest of leads, opportunities and spend, then the
funnel and the weekly series, on a generated store, next to references in the same run.

    .venv/bin/python benchmarks/funnel.py [--leads 100000] [--seed 7]

Generates leads (a third reach MQL, half of those SQL, most SQLs an opportunity), their
opportunities (a tenth of them prospects' with no account) and weekly spend per channel
in a temporary directory, ingests them into a fresh SQLite store, then times
``marketing.funnel.funnel`` by channel and by segment and ``weekly_outcome``. References:
``pandas.read_csv`` of the same leads file (ingest) and one SQL ``GROUP BY`` count of the
leads by tracked source (funnel). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

SOURCES = ("paid_search", "organic_search", "referral", "webinar", "direct", "content", "")
SEGMENTS = ("smb", "mid_market", "enterprise", "")
START = date(2024, 1, 1)


def generate(folder: Path, leads: int, seed: int) -> dict[str, Path]:
    rng = random.Random(seed)
    accounts = max(leads // 50, 10)
    paths = {k: folder / f"{k}.csv" for k in ("accounts", "leads", "opportunities", "spend")}
    with paths["accounts"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "name", "segment", "arr", "contract_start", "tracked_source"])
        for a in range(accounts):
            w.writerow([f"A{a}", f"Firm {a}", rng.choice(SEGMENTS[:3]), 1000 + a,
                        "2023-06-01", rng.choice(SOURCES)])  # fmt: skip
    with paths["leads"].open("w", newline="") as lf, paths["opportunities"].open(
        "w", newline=""
    ) as of:
        lw, ow = csv.writer(lf), csv.writer(of)
        lw.writerow(["lead_id", "account_id", "email", "created_at", "mql_at", "sql_at",
                     "opportunity_id", "tracked_source", "segment"])  # fmt: skip
        ow.writerow(["opportunity_id", "account_id", "created_at", "amount", "closed_at",
                     "is_won", "tracked_source"])  # fmt: skip
        for i in range(leads):
            created = datetime.combine(START, datetime.min.time()) + timedelta(
                minutes=rng.randrange(0, 2 * 365 * 24 * 60)
            )
            mql = sql = opp = None
            if rng.random() < 0.33:
                mql = created + timedelta(days=rng.uniform(0, 20))
                if rng.random() < 0.5:
                    sql = mql + timedelta(days=rng.uniform(0, 20))
                    if rng.random() < 0.8:
                        opp = f"O{i}"
            prospect = rng.random() < 0.1
            account = f"P{i}" if prospect else f"A{rng.randrange(accounts)}"
            lw.writerow([f"L{i}", account, f"person{i}@firm{i % 997}.example",
                         created.isoformat(), mql.isoformat() if mql else "",
                         sql.isoformat() if sql else "", opp or "", rng.choice(SOURCES),
                         rng.choice(SEGMENTS)])  # fmt: skip
            if opp and sql:
                opened = sql + timedelta(days=rng.uniform(0, 10))
                closed, won = "", ""
                if rng.random() < 0.7:
                    closed = (opened + timedelta(days=rng.uniform(5, 120))).isoformat()
                    won = "true" if rng.random() < 0.3 else "false"
                ow.writerow([opp, account, opened.isoformat(), round(rng.uniform(2e3, 9e4), 2),
                             closed, won, ""])  # fmt: skip
    with paths["spend"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "channel", "spend", "campaign"])
        for week in range(104):
            day = START + timedelta(days=7 * week)
            for channel in ("paid_ads", "event", "content", "podcast", "partner"):
                for campaign in ("brand", "generic", "retargeting"):
                    w.writerow([day.isoformat(), channel, round(rng.uniform(0, 5e3), 2), campaign])
    return paths


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    import pandas as pd
    from sqlalchemy import func, select

    from ingest.db.engine import open_store
    from ingest.db.schema import leads
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from marketing.funnel import funnel
    from marketing.weekly import weekly_outcome

    with tempfile.TemporaryDirectory(prefix="undertow-funnel-") as tmp:
        folder = Path(tmp)
        paths = generate(folder, args.leads, args.seed)
        settings = Settings(database_url=f"sqlite:///{folder / 'store.db'}", data_dir=folder)
        engine = open_store(settings)
        figures: dict[str, float] = {}
        rows: dict[str, int] = {}
        for kind in ("accounts", "leads", "opportunities", "spend"):
            summary, secs = timed(ingest_paths, engine, kind, [paths[kind]], settings=settings)
            rows[kind] = summary.read
            figures[f"ingest_{kind}_rows_per_s"] = summary.read / secs
        _, read_s = timed(pd.read_csv, paths["leads"])
        figures["read_csv_leads_rows_per_s"] = rows["leads"] / read_s
        again, again_s = timed(ingest_paths, engine, "leads", [paths["leads"]], settings=settings)
        figures["reingest_leads_rows_per_s"] = again.read / again_s
        assert again.inserted == 0
        result, figures["funnel_channel_s"] = timed(funnel, engine, by="channel")
        _, figures["funnel_segment_s"] = timed(funnel, engine, by="segment")
        _, figures["weekly_pipeline_s"] = timed(weekly_outcome, engine, "pipeline")

        def sql_count() -> list[tuple[str, int]]:
            with engine.connect() as conn:
                q = select(leads.c.tracked_source, func.count()).group_by(leads.c.tracked_source)
                return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]

        _, figures["sql_group_by_s"] = timed(sql_count)
        engine.dispose()
    total = result["total"]
    print(f"{'figure':34s} value")
    for name, value in figures.items():
        print(f"{name:34s} {value:,.3f}" if value < 1000 else f"{name:34s} {value:,.0f}")
    print(f"funnel / SQL GROUP BY: {figures['funnel_channel_s'] / figures['sql_group_by_s']:.1f}x;"
          f" leads ingest / read_csv: "
          f"{figures['ingest_leads_rows_per_s'] / figures['read_csv_leads_rows_per_s']:.3f}")  # fmt: skip
    print(f"store: {rows}; funnel total leads {total['leads']}, opportunities "
          f"{total['opportunities']} ({total['unresolved_opportunities']} of prospects)")  # fmt: skip
    print(json.dumps({"rows": rows, **{k: round(v, 4) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
