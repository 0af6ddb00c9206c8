"""From a finance figure down to the file and line of the texts behind it."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient


def _line(path: str, number: int) -> list[str]:
    rows = Path(path).read_text(encoding="utf-8").splitlines()
    return next(csv.reader([rows[number - 1]]))


def test_revenue_at_risk_traces_to_source_lines(client: TestClient, as_role: Any) -> None:
    h = as_role("finance")
    feed = client.get("/v1/churn-risk?horizon_days=180", headers=h).json()
    figure = next(r for r in feed["items"] if r["account_id"] == "A1")

    prov = client.get("/v1/provenance/revenue_at_risk/A1?horizon_days=180", headers=h).json()
    assert prov["value"] == pytest.approx(figure["revenue_at_risk"])
    assert prov["model_version"] == figure["model_version"]
    assert prov["run"]["run_id"] == feed["run_id"]
    assert prov["inputs"]["arr"] * prov["inputs"]["p_churn"] == pytest.approx(prov["value"])
    assert "arr x p_churn" in prov["method"]
    # the texts the trajectory was built from: up to as_of, newest first
    texts = prov["source_texts"]
    assert prov["source_texts_total"] == 4 == len(texts)
    assert texts[0]["text"] == "Support ignored our outage for three days."
    assert all(t["created_at"] <= "2026-10-31T23:59:59.999999" for t in texts)
    for t in texts:
        cells = _line(t["source_file"], t["source_line"])
        assert cells[3] == t["text"]  # the body column of that very line
        assert cells[0] == t["source_id"]


def test_source_texts_page_with_a_cursor(client: TestClient, as_role: Any) -> None:
    h = as_role("finance")
    first = client.get("/v1/provenance/p_churn/A1?limit=3", headers=h).json()
    assert len(first["source_texts"]) == 3 and first["next_cursor"]
    rest = client.get(
        f"/v1/provenance/p_churn/A1?limit=3&cursor={first['next_cursor']}", headers=h
    ).json()
    ids = [t["document_id"] for t in first["source_texts"] + rest["source_texts"]]
    assert len(ids) == len(set(ids)) == 4 and rest["next_cursor"] is None


def test_sentiment_provenance_names_the_sentiment_model(client: TestClient, as_role: Any) -> None:
    prov = client.get("/v1/provenance/sentiment/A3", headers=as_role("sales")).json()
    assert prov["value"] == pytest.approx(0.35)
    assert "sent-test-1" in prov["method"]
    assert prov["source_texts"][0]["sentiment"] == pytest.approx(0.9)


def test_expected_ltv_provenance_carries_the_fit_params(client: TestClient, as_role: Any) -> None:
    prov = client.get("/v1/provenance/expected_ltv/A2", headers=as_role("finance")).json()
    assert prov["value"] == pytest.approx(40_000 * 3.1)
    assert prov["inputs"]["params"]["discount_rate"] == 0.1


def test_channel_share_traces_to_the_attribution_answers(
    client: TestClient, as_role: Any, store: Any, tmp_path: Path
) -> None:
    import hashlib
    from datetime import datetime

    from sqlalchemy import insert

    from ingest.db.schema import channel_labels, documents, opportunities
    from nlp.channels import current_model_version

    answers = [
        ("A1", "A colleague at another company recommended you", "peer_referral"),
        ("A2", "Saw a thread on Reddit about it", "community"),
        ("A3", "Somebody in our Slack community mentioned it", "community"),
    ]
    path = tmp_path / "attribution.csv"
    path.write_text(
        "response_id,account_id,submitted_at,answer\n"
        + "".join(f"H{i},{a},2026-10-0{i + 1},{t}\n" for i, (a, t, _) in enumerate(answers)),
        encoding="utf-8",
    )
    version = current_model_version()
    with store.engine.begin() as conn:
        conn.execute(
            insert(opportunities).values(
                source="crm", opportunity_id="O1", account_id="A2",
                created_at=datetime(2026, 10, 2), amount=10_000.0, stage="proposal",
                tracked_source="organic_search", source_file="opportunities.csv",
                source_line=2, row_hash="o1",
            )
        )  # fmt: skip
        for i, (account_id, text, channel) in enumerate(answers):
            h = hashlib.sha256(text.encode()).hexdigest()
            doc_id = conn.execute(
                insert(documents).values(
                    kind="attribution", source="hubspot", source_id=f"H{i}",
                    account_id=account_id, resolved_by="account_id",
                    created_at=datetime(2026, 10, i + 1), text=text, text_hash=h,
                    content_hash=h, text_chars=len(text), truncated=False,
                    attrs={"question": "How did you hear about us?"},
                    source_file=str(path), source_line=i + 2, row_hash=h,
                )
            ).inserted_primary_key[0]  # fmt: skip
            conn.execute(
                insert(channel_labels).values(
                    document_id=doc_id, model_version=version, channel=channel,
                    weight=1.0, confidence=0.9, method="test",
                )
            )  # fmt: skip

    h = as_role("marketing")
    funnel = client.get("/v1/dark-funnel", headers=h).json()
    community = next(c for c in funnel["channels"] if c["channel"] == "community")
    prov = client.get("/v1/provenance/self_reported_share/community", headers=h).json()
    assert prov["value"] == pytest.approx(community["self_reported_share"])
    assert prov["source_texts_total"] == 2
    for t in prov["source_texts"]:
        cells = _line(t["source_file"], t["source_line"])
        assert cells[3] == t["text"] and cells[0] == t["source_id"]
    assert (
        client.get("/v1/provenance/pipeline/community", headers=as_role("finance")).status_code
        == 403
    )


def test_p_expand_provenance_names_the_expansion_model(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    item = next(
        i
        for i in client.get("/v1/signals?list=expansion", headers=h).json()["items"]
        if i["account_id"] == "A3"
    )
    prov = client.get("/v1/provenance/p_expand_180d/A3", headers=h).json()
    assert prov["value"] == pytest.approx(item["p_expand_180d"]) == pytest.approx(0.45)
    assert "expansion_pem-v1-test" in prov["method"] and "180 days" in prov["method"]
    assert prov["inputs"]["expansion_reason"] == item["reason"]
    assert [d["feature"] for d in prov["inputs"]["expansion_drivers"]] == ["nps_level", "nps_trend"]
    assert prov["source_texts"][0]["text"] == "The team is thrilled with the dashboards."
    # the figure is shown to sales only (the expansion list is theirs)
    forbidden = client.get("/v1/provenance/p_expand_180d/A3", headers=as_role("finance"))
    assert forbidden.status_code == 403
    links = client.get("/v1/accounts/A3", headers=h).json()["provenance"]
    assert links["p_expand_180d"] == "/v1/provenance/p_expand_180d/A3"
