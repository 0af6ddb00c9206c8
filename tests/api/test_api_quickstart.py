"""`undertow quickstart --no-serve` end to end on the embedded SQLite default: demo world,
ingest, score (real model), fit, keys; then the API on that store, from a finance figure
down to the demo file's line."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import cli
from api.settings import ApiSettings
from ingest.settings import Settings


@pytest.mark.slow
@pytest.mark.real_model
def test_quickstart_builds_a_store_the_api_serves(tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the embedded default database lives in the working directory
    try:
        env = {"UNDERTOW_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
        env["UNDERTOW_DATABASE_URL"] = ""  # unset: the embedded default
        result = CliRunner().invoke(
            cli,
            [
                "quickstart",
                "--dir",
                "demo",
                "--accounts",
                "40",
                "--months",
                "12",
                "--no-serve",
                "--json",
            ],
            env=env,
            catch_exceptions=False,
        )
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["database_url"] == "sqlite:///undertow.db"
    assert set(out["keys"]) == {"sales", "finance", "marketing", "admin"}
    assert out["ingest"]["accounts"]["inserted"] == 40
    assert out["score"]["scored"] > 0 and out["fit"]["run_id"]
    assert out["measure"]["run_id"] and out["measure"]["weeks"] >= 26

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'undertow.db'}")
    app = create_app(settings, ApiSettings(rate_limit_per_second=0))
    keys = out["keys"]
    with TestClient(app) as client:
        fin = {"Authorization": f"Bearer {keys['finance']}"}
        feed = client.get("/v1/churn-risk?limit=1000", headers=fin).json()
        assert len(feed["items"]) == out["fit"]["accounts"]
        row = max(feed["items"], key=lambda r: r["revenue_at_risk"])
        prov = client.get(f"/v1/provenance/revenue_at_risk/{row['account_id']}", headers=fin)
        prov = prov.json()
        assert prov["value"] == pytest.approx(row["revenue_at_risk"])
        text = prov["source_texts"][0]
        lines = Path(text["source_file"]).read_text(encoding="utf-8").splitlines(keepends=True)
        header = next(csv.reader([lines[0]]))
        # the record starting at that line (a quoted body may span lines) holds the text's id
        record = next(csv.reader(lines[text["source_line"] - 1 :]))
        assert record[header.index(_id_column(text["kind"]))] == text["source_id"]
        sales = {"Authorization": f"Bearer {keys['sales']}"}
        assert client.get("/v1/signals?list=risk", headers=sales).status_code == 200
        assert client.get("/v1/churn-risk", headers=sales).status_code == 403
        mkt = {"Authorization": f"Bearer {keys['marketing']}"}
        impact = client.get("/v1/channel-impact", headers=mkt).json()
        assert impact["run_id"] == out["measure"]["run_id"] and impact["channels"]
        forecast = client.get("/v1/forecast", headers=fin).json()
        assert forecast["forecast_id"] == out["measure"]["forecast_id"]  # the recorded one


def _id_column(kind: str) -> str:
    return {"review": "review_id", "ticket": "ticket_id", "survey": "response_id"}[kind]
