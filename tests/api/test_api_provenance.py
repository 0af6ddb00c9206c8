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
