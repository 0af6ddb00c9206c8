"""`undertow fit` against a store that holds what ingest now refuses (an older store):
a future date, an overflowing ARR; and a store with too little history."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from hostile_support import error_line, undertow
from sqlalchemy import Engine, func, insert, select, update
from synthetic_world import make_world, write_to_store

from ingest.db.schema import accounts, documents, risk_runs


def _runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(risk_runs)).scalar_one())


def test_a_future_record_cannot_move_as_of_past_today(
    engine: Engine, cli_env: dict[str, str]
) -> None:
    write_to_store(engine, make_world(120, months=24, seed=9, as_of="2026-06-30"))
    text = "dated by a typo"
    with engine.begin() as conn:
        conn.execute(insert(documents).values(
            kind="ticket", source="csv", source_id="T-2099", account_id=None,
            created_at=datetime(2099, 1, 1), text=text,
            text_hash=hashlib.sha256(text.encode()).hexdigest()[:32], content_hash="c2099",
            text_chars=len(text), truncated=False, source_file="tickets.csv", source_line=7,
            row_hash="r2099",
        ))  # fmt: skip
    out = json.loads(undertow(cli_env, "fit", "--json").stdout)
    today = datetime.now(UTC).date().isoformat()
    assert out["as_of"] <= today
    assert "T-2099" in out["as_of_note"] and "tickets.csv line 7" in out["as_of_note"]


def test_an_overflowing_arr_is_refused_by_name_and_nothing_is_stored(
    engine: Engine, cli_env: dict[str, str]
) -> None:
    write_to_store(engine, make_world(120, months=24, seed=9, as_of="2026-06-30"))
    with engine.begin() as conn:
        victim = conn.execute(select(accounts.c.account_id).limit(1)).scalar_one()
        conn.execute(update(accounts).where(accounts.c.account_id == victim).values(arr=1e308))
    result = undertow(cli_env, "fit", "--as-of", "2026-06-30", code=2)
    line = error_line(result)
    assert victim in line and "1e+308" in line
    assert _runs(engine) == 0


def test_short_history_says_what_history_is_needed(engine: Engine, cli_env: dict[str, str]) -> None:
    write_to_store(engine, make_world(200, months=7, seed=3, as_of="2026-06-30"))
    text = " ".join(undertow(cli_env, "fit", "--as-of", "2026-06-30").output.split())
    assert "None days" not in text and "origins )" not in text
    assert "back-test skipped: too little history for an out-of-time back-test" in text
    assert "at least 9 months before an origin and 90 days after it" in text
