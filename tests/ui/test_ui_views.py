"""What each role view shows, checked against the generated truth of the store."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import AS_OF, RUN_ID, UiStore, make_ui_app, sign_in
from fastapi.testclient import TestClient

from api.keys import create_key
from api.ui.formatting import money, pct
from ingest.db.engine import open_store
from ingest.settings import Settings


@pytest.fixture(scope="module")
def admin_session(ui_app: tuple[Any, TestClient], ui_store: UiStore) -> dict[str, str]:
    """One sign-in for the module's views: the shared app allows a burst of 20 sign-ins
    per client address (then one a second), and the other UI modules sign in too."""
    client = ui_app[1]
    client.cookies.clear()
    assert sign_in(client, ui_store.keys["admin"]).status_code == 303
    jar = dict(client.cookies)
    client.cookies.clear()
    return jar


@pytest.fixture
def admin(ui_client: TestClient, admin_session: dict[str, str]) -> TestClient:
    ui_client.cookies.update(admin_session)
    return ui_client


def _section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</section>", start)]


def test_sales_lists_rank_by_the_models_with_sparklines_and_evidence(
    admin: TestClient, ui_store: UiStore
) -> None:
    page = admin.get("/ui/sales").text
    for kind, score in (("risk", lambda a: a.p[90]), ("expansion", lambda a: a.p_expand)):
        section = _section(page, f"list-{kind}")
        ranked = sorted(ui_store.world.active, key=lambda a: (score(a), a.account_id), reverse=True)
        expected = [html.escape(a.name) for a in ranked[:25]]
        shown = re.findall(r'<a href="/ui/accounts/[^"]+">([^<]+)</a><br>', section)
        assert shown == expected
        assert section.count('<svg class="spark"') == len(expected)
        assert pct(score(ranked[0])) in section
    risk = _section(page, "list-risk")
    cal = re.search(r'data-testid="calibration-risk">([^<]+)<', risk)
    assert cal and "Of the 25 accounts ranked like these last quarter" in cal.group(1)
    assert "24% churned within 90 days" in cal.group(1)
    assert 'href="/ui/sales/signals.csv?list=risk&amp;sort=p_churn_90d"' in risk


def test_sales_lists_by_trend_sort_and_filters(admin: TestClient, ui_store: UiStore) -> None:
    page = admin.get("/ui/sales?risk_sort=trend&segment=smb&min_texts=4").text
    section = _section(page, "list-risk")
    ranked = sorted(
        (a for a in ui_store.world.active
         if a.trend < 0 and a.segment == "smb" and a.texts_90d >= 4),
        key=lambda a: (a.trend, a.account_id),
    )  # fmt: skip
    shown = re.findall(r'<a href="/ui/accounts/[^"]+">([^<]+)</a><br>', section)
    assert shown == [html.escape(a.name) for a in ranked[:25]] and shown
    assert "sort=trend&amp;segment=smb&amp;min_texts=4" in section  # the download keeps them
    bad = admin.get("/ui/sales?min_arr=lots")
    assert bad.status_code == 422 and "min_arr" in bad.text
    assert admin.get("/ui/sales?expansion_sort=revenue_at_risk").status_code == 422


def test_sales_csv_download_is_the_api_list(admin: TestClient, ui_store: UiStore) -> None:
    r = admin.get("/ui/sales/signals.csv?list=expansion&sort=p_expand_180d")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    ranked = sorted(ui_store.world.active, key=lambda a: (a.p_expand, a.account_id), reverse=True)
    assert [x["account_id"] for x in rows] == [a.account_id for a in ranked]
    assert "attachment" in r.headers["content-disposition"]


def test_sales_evidence_is_the_most_negative_text(admin: TestClient, ui_store: UiStore) -> None:
    page = admin.get("/ui/sales").text
    # evidence of the top risk account: its most negative text of the 90 days before as_of
    top = max(ui_store.world.active, key=lambda a: (a.p[90], a.account_id))
    window = [
        d
        for d in ui_store.world.documents
        if d["account_id"] == top.account_id
        and (AS_OF - d["created_at"].date()).days <= 90
        and d["created_at"].date() <= AS_OF
    ]
    worst = min(window, key=lambda d: d["sentiment"])
    assert worst["sentiment"] <= -0.3  # the fixture's riskiest account wrote a negative text
    risk = _section(page, "list-risk")
    assert html.escape(worst["text"]) in risk
    assert f'href="/ui/documents/{worst["id"]}"' in risk
    assert f"{Path(worst['file']).name}:{worst['line']}" in risk
    # a text near neutral moved nothing: never shown as evidence, even with room for it
    mild = [d for d in window if d["sentiment"] > -0.3]
    assert mild and not any(html.escape(d["text"]) in risk for d in mild)


def test_account_names_are_escaped(admin: TestClient) -> None:
    page = admin.get("/ui/accounts/ACC-033").text
    assert "<b>Sons</b>" not in page
    assert "Hale &amp; &lt;b&gt;Sons&lt;/b&gt;" in page


def test_finance_shows_revenue_at_risk_calibration_ledger_and_csv(
    admin: TestClient, ui_store: UiStore
) -> None:
    world = ui_store.world
    page = admin.get("/ui/finance?horizon_days=180").text
    expected = sum(a.arr * a.p[180] for a in world.active)
    total = _section(page, "revenue-total")
    assert money(expected) in total and money(sum(a.arr for a in world.active)) in total
    segments = _section(page, "revenue-total")
    assert "90% interval" in segments
    for seg in {a.segment for a in world.active}:
        assert money(sum(a.arr * a.p[180] for a in world.active if a.segment == seg)) in page
    assert 'id="chart-revenue"' in page and 'id="chart-calibration"' in page
    figure = html.unescape(
        re.search(r'id="chart-calibration" data-figure="([^"]+)"', page).group(1)
    )
    for c in world.calibration:
        assert str(c["observed"]) in figure
    ledger = _section(page, "ledger")
    for h in (90, 180):
        rows = [j for j in world.judged if j["horizon_days"] == h]
        observed = sum(j["outcome"] for j in rows)
        assert re.search(
            rf"<td class=\"num\">{h} d</td><td class=\"num\">{len(rows)}</td><td class=\"num\">[\d.]+</td><td class=\"num\">{observed}</td>",
            ledger,
        )
    assert "Open forecasts" in ledger
    assert 'href="/ui/finance/churn-risk.csv?horizon_days=180"' in page

    r = admin.get("/ui/finance/churn-risk.csv?horizon_days=180")
    assert r.status_code == 200 and r.headers["x-run-id"] == RUN_ID
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0])[:9] == [
        "account_id",
        "arr",
        "p_churn",
        "p_churn_low",
        "p_churn_high",
        "revenue_at_risk",
        "expected_ltv",
        "as_of",
        "model_version",
    ]
    assert {row["account_id"]: float(row["p_churn"]) for row in rows} == {
        a.account_id: a.p[180] for a in world.active
    }


def test_finance_refuses_a_bad_horizon(admin: TestClient) -> None:
    for path in ("/ui/finance?horizon_days=30", "/ui/finance/churn-risk.csv?horizon_days=7"):
        r = admin.get(path)
        assert r.status_code == 422 and "horizon_days must be one of" in r.text


def test_marketing_shows_self_reported_vs_tracked_with_intervals(
    admin: TestClient, ui_store: UiStore
) -> None:
    from nlp.channels import DARK_CHANNELS

    answered = [a for a in ui_store.world.accounts if a.answer_channel]
    page = admin.get("/ui/marketing").text
    cards = _section(page, "dark-cards")
    dark = sum(a.answer_channel in DARK_CHANNELS for a in answered) / len(answered)
    assert pct(dark) in cards and "95% interval" in cards
    assert f"{len(answered)} answers" in page
    assert 'id="chart-channels"' in page and 'id="chart-trend"' in page
    channels = _section(page, "channels")
    top = max(
        set(a.answer_channel for a in answered),
        key=lambda c: sum(a.answer_channel == c for a in answered),
    )
    share = sum(a.answer_channel == top for a in answered) / len(answered)
    assert pct(share) in channels
    # a period without answers
    empty = admin.get("/ui/marketing?from=2020-01-01&to=2020-02-01").text
    assert 'data-testid="no-answers"' in empty
    assert admin.get("/ui/marketing?from=yesterday").status_code == 422
    assert admin.get("/ui/marketing?from=2026-05-01&to=2026-01-01").status_code == 422


def test_account_view_traces_evidence_to_file_and_line(
    admin: TestClient, ui_store: UiStore
) -> None:
    account = next(a for a in ui_store.world.active if a.trend < 0)
    page = admin.get(f"/ui/accounts/{account.account_id}").text
    assert f'data-testid="account-name">{html.escape(account.name)} <small>' in page
    risk = _section(page, "account-risk")
    for h in (90, 180, 365):
        assert pct(account.p[h]) in risk
    assert pct(account.p_expand) in risk and "Expansion more likely" in risk
    assert f"({account.texts_90d} texts)" in risk
    assert 'id="chart-trajectory"' in page and 'id="chart-drivers"' in page
    assert "sentiment_trend" in _section(page, "drivers")
    newest = max(
        (d for d in ui_store.world.documents if d["account_id"] == account.account_id),
        key=lambda d: (d["created_at"], d["id"]),
    )
    evidence = _section(page, "evidence")
    assert html.escape(newest["text"]) in evidence
    # one click: the text's page names the file and line, and that line holds the text
    doc = admin.get(f"/ui/documents/{newest['id']}").text
    prov = _section(doc, "provenance")
    assert f"<code>{html.escape(newest['file'])}</code>, line {newest['line']}" in prov
    with open(newest["file"], encoding="utf-8", newline="") as fh:
        line = fh.read().split("\n")[newest["line"] - 1]
    assert next(csv.reader([line]))[3] == newest["text"]


def test_account_texts_are_paged(admin: TestClient, ui_store: UiStore) -> None:
    account = ui_store.world.active[0]
    texts = sorted(
        (d for d in ui_store.world.documents if d["account_id"] == account.account_id),
        key=lambda d: (d["created_at"], d["id"]),
        reverse=True,
    )
    assert len(texts) > 10
    second = _section(admin.get(f"/ui/accounts/{account.account_id}?offset=10").text, "evidence")
    assert html.escape(texts[10]["text"]) in second and html.escape(texts[0]["text"]) not in second


def test_unknown_account_and_document_get_404_pages(admin: TestClient) -> None:
    for path in ("/ui/accounts/NOPE", "/ui/documents/999999"):
        r = admin.get(path)
        assert (
            r.status_code == 404
            and 'data-status="404"' in r.text
            and "text/html" in r.headers["content-type"]
        )


def test_views_before_the_first_fit(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path / "d")
    engine = open_store(settings)
    key = create_key(engine, "admin")["key"]
    engine.dispose()
    with TestClient(make_ui_app(settings)) as client:
        sign_in(client, key)
        for path in ("/ui/sales", "/ui/finance"):
            r = client.get(path)
            assert r.status_code == 200 and 'data-testid="no-snapshot"' in r.text
        assert 'data-testid="no-answers"' in client.get("/ui/marketing").text
        assert client.get("/ui/finance/churn-risk.csv").status_code == 409
