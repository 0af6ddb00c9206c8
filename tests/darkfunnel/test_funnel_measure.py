"""marketing.dark_funnel.measure on a hand-made world whose figures are counted by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from ingest.db.schema import channel_labels
from ingest.settings import Settings
from marketing.dark_funnel import channel_evidence, measure, wilson
from nlp.channels import classify_store

CONTRACT_KEYS = {
    "channels",
    "dark_share",
    "dark_share_low",
    "dark_share_high",
    "tracked_dark_share",
    "undercount_points",
    "misattributed_share",
    "response_rate",
}
CHANNEL_KEYS = {
    "channel",
    "dark",
    "responses",
    "self_reported_share",
    "self_reported_share_low",
    "self_reported_share_high",
    "tracked_share",
    "influenced_arr",
    "pipeline",
}


def _ch(result: dict, name: str) -> dict:
    return next(c for c in result["channels"] if c["channel"] == name)


def test_measure_contract_keys_and_hand_counted_figures(funnel_world: Engine) -> None:
    m = measure(funnel_world)
    assert CONTRACT_KEYS <= set(m)
    assert all(set(c) >= CHANNEL_KEYS for c in m["channels"]) and len(m["channels"]) == 12
    assert m["n"] == 11
    # dark: r1 r3 (peer), r4 (ai), r5 (podcast), r9 (reddit + G2), r11 (LinkedIn)
    assert m["dark_share"] == pytest.approx(6 / 11, abs=1e-4)
    low, high = wilson(6, 11)
    assert m["dark_share_low"] == pytest.approx(low, abs=1e-4)
    assert m["dark_share_high"] == pytest.approx(high, abs=1e-4)
    assert m["dark_share_low"] < m["dark_share"] < m["dark_share_high"]
    # tracked: 10 answering resolved accounts; referral -> peer, organic_social -> social
    assert m["tracked_dark_share"] == pytest.approx(2 / 10)
    assert m["undercount_points"] == pytest.approx(6 / 11 - 2 / 10, abs=1e-4)
    # a1 (peer vs direct), a4 (ai vs paid), a5 (podcast vs direct), a9 (community|review vs social)
    assert m["misattributed_share"] == pytest.approx(4 / 9, abs=1e-4)
    assert m["response_rate"] == pytest.approx(10 / 12, abs=1e-4)
    assert sum(c["self_reported_share"] for c in m["channels"]) == pytest.approx(1.0, abs=1e-3)
    assert _ch(m, "community")["responses"] == pytest.approx(0.5)
    assert _ch(m, "review_site")["responses"] == pytest.approx(1.5)
    # influenced ARR: a9 (300k) half community; pipeline: a9's open 100k opportunity, half
    assert _ch(m, "community")["influenced_arr"] == pytest.approx(150_000)
    assert _ch(m, "community")["pipeline"] == pytest.approx(50_000)
    # a4: the open 20k counts, the closed-lost 7k does not
    assert _ch(m, "ai_assistant")["pipeline"] == pytest.approx(20_000)
    assert _ch(m, "peer_referral")["dark"] and not _ch(m, "search")["dark"]
    assert m["unresolved_answers"] == 1
    assert {t["period"] for t in m["trends"]["month"]} == {"2025-01", "2025-02", "2025-03"}
    assert (
        0.0
        <= m["dark_share_corrected_low"]
        <= m["dark_share_corrected"]
        <= m["dark_share_corrected_high"]
        <= 1.0
    )


def test_period_filter(funnel_world: Engine) -> None:
    m = measure(funnel_world, date(2025, 2, 1), date(2025, 2, 28))
    assert m["n"] == 3  # r3 r4 r5, all dark
    assert m["dark_share"] == pytest.approx(1.0)
    assert m["period"] == {"from": "2025-02-01", "to": "2025-02-28"}
    assert _ch(m, "ai_assistant")["pipeline"] == pytest.approx(20_000)


def test_classify_store_is_idempotent_and_measure_reads_it(
    funnel_world: Engine, settings: Settings
) -> None:
    before = measure(funnel_world)  # labels computed on the fly
    first = classify_store(funnel_world, settings)
    again = classify_store(funnel_world, settings)
    assert first["classified"] == 11 and first["cached"] == 0
    assert again["classified"] == 0 and again["cached"] == 11
    with funnel_world.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(channel_labels)).scalar_one()
    assert rows == 12  # r9 names two channels
    after = measure(funnel_world)
    assert after["channels"] == before["channels"] and after["dark_share"] == before["dark_share"]


def test_evidence_names_the_answers_and_their_files(funnel_world: Engine) -> None:
    ev = channel_evidence(funnel_world, "ai_assistant")
    assert [e["response_id"] for e in ev] == ["r4"]
    assert ev[0]["decided_by"].startswith("rule:") and ev[0]["source_line"] >= 1


def test_empty_store_gives_nulls_not_errors(engine: Engine) -> None:
    m = measure(engine)
    assert m["n"] == 0 and m["dark_share"] is None and m["response_rate"] is None
    assert len(m["channels"]) == 12


def test_answers_without_any_opportunity_give_zero_pipeline(
    engine: Engine, settings: Settings
) -> None:
    from ingest.pipeline import ingest_records

    ingest_records(
        engine,
        "accounts",
        [{"account_id": "b1", "name": "B One", "arr": 1000, "contract_start": "2024-01-01"}],
        settings=settings,
    )
    ingest_records(
        engine,
        "attribution",
        [
            {
                "response_id": "x1",
                "account_id": "b1",
                "submitted_at": "2025-01-02",
                "answer": "a podcast",
            }
        ],  # fmt: skip
        settings=settings,
    )
    result = measure(engine)
    assert {c["channel"]: c["pipeline"] for c in result["channels"]}["podcast"] == 0.0
    assert result["dark_share"] == 1.0


def test_prospects_pipeline_reaches_the_channels_their_answers_name(
    funnel_world: Engine, settings: Settings
) -> None:
    """Opportunities of prospects (stored unresolved) count in the channel pipeline of
    the prospect's own answers, reached by the account id the answer gave or by the
    respondent's lead; a prospect that did not answer adds nothing, and no account's
    figure changes."""
    from ingest.pipeline import ingest_records

    before = measure(funnel_world)
    records = {
        "attribution": [
            {"response_id": "r12", "respondent_email": "Sam@NewCo.example",
             "submitted_at": "2025-03-22", "answer": "a podcast"},
        ],
        "leads": [
            {"lead_id": "L12", "email": "sam@newco.example", "created_at": "2025-03-20",
             "opportunity_id": "O11"},
        ],
        "opportunities": [
            # zzz answered LinkedIn (social); its account id is a prospect's
            {"opportunity_id": "O9", "account_id": "zzz", "created_at": "2025-03-25",
             "amount": 4000},
            {"opportunity_id": "O10", "account_id": "nobody", "created_at": "2025-03-25",
             "amount": 9000},
            {"opportunity_id": "O11", "account_id": "P-11", "created_at": "2025-03-26",
             "amount": 3000},
            {"opportunity_id": "O12", "account_id": "zzz", "created_at": "2025-03-26",
             "amount": 500, "is_won": False, "closed_at": "2025-03-27"},
        ],
    }  # fmt: skip
    for kind, recs in records.items():
        ingest_records(funnel_world, kind, recs, settings=settings, source="test")
    after = measure(funnel_world)
    got = {c["channel"]: c["pipeline"] for c in after["channels"]}
    was = {c["channel"]: c["pipeline"] for c in before["channels"]}
    assert got["social"] == pytest.approx(was["social"] + 4000)
    assert got["podcast"] == pytest.approx(was["podcast"] + 3000)
    assert sum(got.values()) == pytest.approx(sum(was.values()) + 7000)
    assert got["ai_assistant"] == was["ai_assistant"] == pytest.approx(20_000)
    assert [c["influenced_arr"] for c in after["channels"]] == [
        c["influenced_arr"] for c in before["channels"]
    ]
    assert after["definitions_version"]
