"""marketing.funnel on the hand-made world of conftest.py, counted by hand; counts add up
to the store exactly; empty periods and stores give zeros and nulls, never NaN."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, and_, func, select

from ingest.db.schema import leads, opportunities
from marketing.definitions import load_definitions
from marketing.errors import MarketingInputError
from marketing.funnel import ROW_COLUMNS, funnel, funnel_rows
from marketing.intervals import Z90, wilson

Q1 = (date(2025, 1, 1), date(2025, 3, 31))
CONTRACT_GROUP_KEYS = {
    "group", "leads", "mqls", "sqls", "opportunities", "won", "lost",
    "lead_to_mql_rate", "lead_to_mql_rate_low", "lead_to_mql_rate_high",
    "mql_to_sql_rate", "mql_to_sql_rate_low", "mql_to_sql_rate_high",
    "sql_to_opportunity_rate", "sql_to_opportunity_rate_low", "sql_to_opportunity_rate_high",
    "opportunity_to_won_rate", "opportunity_to_won_rate_low", "opportunity_to_won_rate_high",
    "median_days_lead_to_mql", "median_days_mql_to_sql", "median_days_sql_to_opportunity",
    "median_days_opportunity_to_close", "win_rate", "average_deal", "pipeline_velocity",
}  # fmt: skip
COUNTS = ("leads", "mqls", "sqls", "opportunities", "won", "lost")


def _counts(group: dict[str, Any]) -> tuple[int, ...]:
    return tuple(group[k] for k in COUNTS)


def test_hand_counted_funnel_by_channel(revenue_world: Engine) -> None:
    out = funnel(revenue_world, *Q1, by="channel")
    assert (out["from"], out["to"], out["by"]) == (*Q1, "channel")
    assert out["definitions_version"] == load_definitions().version
    by = {g["group"]: g for g in out["groups"]}
    assert list(by) == ["search", "event", "content", "paid_ads", "other"]  # taxonomy order
    assert all(set(g) >= CONTRACT_GROUP_KEYS for g in [*out["groups"], out["total"]])
    # L1 (+ L5's MQL and SQL; O1 won, O6 won in Q1 though created before it)
    assert _counts(by["paid_ads"]) == (1, 2, 2, 1, 2, 0)
    assert _counts(by["search"]) == (1, 1, 0, 0, 0, 0)  # L2
    # L4 (webinar) and the opportunities O2 (account's event), O4 (its lead's), O7
    assert _counts(by["event"]) == (1, 0, 1, 3, 0, 1)
    assert _counts(by["content"]) == (1, 0, 0, 0, 0, 0)  # L6: its MQL is in September
    assert _counts(by["other"]) == (1, 0, 0, 1, 1, 0)  # L3; O5, a prospect's, no source
    total = out["total"]
    assert _counts(total) == (5, 3, 3, 5, 3, 1)
    # cohort: L1 L2 L3 L4 L6; reached MQL: L1, L2, L4 (by its SQL); SQL: L1, L4; opp: L1, L4
    assert (total["lead_to_mql_rate"], total["mql_to_sql_rate"]) == (
        0.6,
        pytest.approx(2 / 3, abs=1e-4),
    )
    assert total["sql_to_opportunity_rate"] == 1.0
    # opportunities created in Q1: O1 O2 O4 O5 O7; won within the window: O1 O5 O7
    assert total["opportunity_to_won_rate"] == 0.6
    low, high = wilson(3, 5, Z90)
    assert (total["lead_to_mql_rate_low"], total["lead_to_mql_rate_high"]) == (
        round(low, 4), round(high, 4),
    )  # fmt: skip
    assert total["median_days_lead_to_mql"] == 3.0  # L1 5 days, L2 1 day
    assert total["median_days_mql_to_sql"] == 10.0  # L1
    assert total["median_days_sql_to_opportunity"] == 5.0  # L1 and L4: 5 days each
    assert total["median_days_opportunity_to_close"] == 38.5  # O5 10, O1 35, O2 42, O6 75
    assert total["win_rate"] == 0.75
    assert total["average_deal"] == pytest.approx(23_000 / 3, abs=0.01)
    assert total["pipeline_velocity"] == pytest.approx(5 * 0.75 * 23_000 / 3 / 38.5, abs=0.01)
    assert total["pipeline"] == 86_000 and total["unresolved_opportunities"] == 2
    assert by["paid_ads"]["win_rate"] == 1.0 and by["event"]["win_rate"] == 0.0
    assert by["search"]["mql_to_sql_rate"] == 0.0 and by["search"]["win_rate"] is None
    assert by["content"]["lead_to_mql_rate"] == 0.0  # reached after the window
    assert by["content"]["lead_to_mql_rate_high"] > 0  # an interval even at 0 of 1
    # the store runs to 2025-09-30, 183 days after the period: older than the window
    assert out["cohort_mature"] is True and out["data_until"] == date(2025, 9, 30)


def test_hand_counted_funnel_by_segment(revenue_world: Engine) -> None:
    out = funnel(revenue_world, *Q1, by="segment")
    by = {g["group"]: g for g in out["groups"]}
    assert list(by) == ["ent", "mid", "smb", "unknown"]
    assert _counts(by["ent"]) == (1, 0, 1, 3, 0, 1)  # L4; O2 (A2), O4 (its lead's), O7 (A2)
    assert _counts(by["mid"]) == (1, 1, 0, 0, 0, 0)  # L2
    assert _counts(by["smb"]) == (2, 2, 2, 1, 2, 0)  # L1 L6; L5's MQL, SQL; O1; O1 O6 won
    assert _counts(by["unknown"]) == (1, 0, 0, 1, 1, 0)  # L3; O5


@pytest.mark.parametrize("by", ["channel", "segment"])
@pytest.mark.parametrize(
    "period",
    [Q1, (date(2025, 1, 9), date(2025, 1, 9)), (date(2024, 1, 1), date(2026, 1, 1)), (None, None)],
)
def test_counts_add_up_to_the_stored_records(
    revenue_world: Engine, by: str, period: tuple[date | None, date | None]
) -> None:
    out = funnel(revenue_world, *period, by=by)
    lo = datetime.combine(out["from"], datetime.min.time())
    hi = datetime.combine(out["to"], datetime.min.time()).replace(hour=23, minute=59, second=59)

    def stored(table: Any, column: Any, *where: Any) -> int:
        with revenue_world.connect() as conn:
            q = select(func.count()).select_from(table).where(column.between(lo, hi), *where)
            return int(conn.execute(q).scalar_one())

    o = opportunities.c
    expected = {
        "leads": stored(leads, leads.c.created_at),
        "mqls": stored(leads, leads.c.mql_at),
        "sqls": stored(leads, leads.c.sql_at),
        "opportunities": stored(opportunities, o.created_at),
        "won": stored(opportunities, o.closed_at, o.is_won.is_(True)),
        "lost": stored(opportunities, o.closed_at, and_(o.is_won.is_(False))),
    }
    for key, n in expected.items():
        assert out["total"][key] == n, key
        assert sum(g[key] for g in out["groups"]) == n, key
    assert out["total"]["leads"] > 0


def test_the_whole_store_is_the_default_period(revenue_world: Engine) -> None:
    out = funnel(revenue_world)
    assert (out["from"], out["to"]) == (date(2024, 11, 1), date(2025, 9, 30))
    assert out["total"]["leads"] == 7 and out["total"]["opportunities"] == 6


def test_empty_periods_and_stores_give_zeros_and_nulls(
    revenue_world: Engine, engine: Engine
) -> None:
    quiet = funnel(revenue_world, date(2030, 1, 1), date(2030, 3, 31))
    assert quiet["groups"] == [] and _counts(quiet["total"]) == (0,) * 6
    assert quiet["total"]["lead_to_mql_rate"] is None and quiet["total"]["average_deal"] is None
    assert quiet["total"]["pipeline_velocity"] is None and quiet["cohort_mature"] is False
    json.dumps(quiet, default=str, allow_nan=False)
    busy = funnel(revenue_world, *Q1)
    json.dumps(busy, default=str, allow_nan=False)


def test_an_empty_store(engine: Engine) -> None:
    out = funnel(engine, by="segment")
    assert (out["from"], out["to"], out["groups"]) == (None, None, [])
    assert _counts(out["total"]) == (0,) * 6 and out["total"]["win_rate"] is None
    json.dumps(out, default=str, allow_nan=False)


def test_bad_arguments_say_what_to_fix(revenue_world: Engine) -> None:
    with pytest.raises(MarketingInputError, match="by must be one of channel, segment"):
        funnel(revenue_world, by="campaign")
    with pytest.raises(MarketingInputError, match="must not be after"):
        funnel(revenue_world, date(2025, 3, 1), date(2025, 1, 1))


def test_flat_rows_carry_the_period_and_definitions(revenue_world: Engine) -> None:
    out = funnel(revenue_world, *Q1, by="segment")
    rows = funnel_rows(out)
    assert [r["group"] for r in rows] == ["ent", "mid", "smb", "unknown", "total"]
    assert all(set(r) <= set(ROW_COLUMNS) for r in rows)
    assert all(r["definitions_version"] == out["definitions_version"] for r in rows)
    assert rows[-1]["leads"] == sum(r["leads"] for r in rows[:-1])


def test_periods_at_the_ends_of_the_calendar(revenue_world: Engine) -> None:
    out = funnel(revenue_world, date(1, 1, 1), date.max, by="segment")
    assert out["total"]["leads"] == 7 and out["total"]["opportunities"] == 6
    assert funnel(revenue_world, date(1, 1, 1), date(1, 1, 2))["groups"] == []
