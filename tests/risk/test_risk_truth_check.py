"""`undertow eval churn`: a snapshot judged against a world's true churn dates."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from synthetic_world import SyntheticWorld

from api.cli import cli
from api.commands.fitting import fit_summary
from ingest.db.schema import risk_predictions
from ingest.settings import Settings
from risk.errors import RiskInputError
from risk.fit import fit_and_store
from risk.truth_check import read_truth


def test_read_truth_checks_its_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id,churn\nA,2025-01-01\n")
    with pytest.raises(RiskInputError, match="churned_at_true"):
        read_truth(bad)
    bad.write_text("account_id,churned_at_true\nA,yesterday\n")
    with pytest.raises(RiskInputError, match="ISO date"):
        read_truth(bad)
    ok = tmp_path / "ok.csv"
    ok.write_text("account_id,churned_at_true\nA,2025-01-01\nB,\n")
    t = read_truth(ok)
    assert t["churned_at_true"].isna().tolist() == [False, True]


def test_eval_churn_at_the_cli(
    engine: Engine,
    settings: Settings,
    cli_env: dict[str, str],
    stored_world: SyntheticWorld,
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    truth = tmp_path / "truth.csv"
    stored_world.write_truth(truth)
    res = runner.invoke(cli, ["eval", "churn", "--truth", str(truth)], env=cli_env)
    assert res.exit_code == 2 and "fit" in res.output  # no snapshot yet

    fit = fit_summary(fit_and_store(engine, settings))
    res = runner.invoke(cli, ["eval", "churn", "--truth", str(truth), "--json"], env=cli_env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["run_id"] == fit["run_id"] and out["accounts"] == fit["accounts"]

    as_of = pd.Timestamp(out["as_of"])
    t = stored_world.truth.set_index("account_id")["churned_at_true"]
    with engine.connect() as conn:
        pred = pd.DataFrame(
            conn.execute(
                select(risk_predictions.c.account_id, risk_predictions.c.p_churn_180d).where(
                    risk_predictions.c.run_id == fit["run_id"]
                )
            ).all(),
            columns=["account_id", "p"],
        )
    when = pred["account_id"].map(t)
    observed = int(((when > as_of) & (when <= as_of + pd.Timedelta(days=180))).sum())
    assert out["observed"] == observed > 0
    assert out["expected"] == pytest.approx(pred["p"].sum(), abs=0.01)
    assert out["auc"] > 0.65
    assert set(out["variants"]) == {"no_text", "crm_only"}
    assert out["variants"]["crm_only"]["auc"] < out["auc"]
    assert out["text_lift_auc"] == pytest.approx(out["auc"] - out["variants"]["no_text"]["auc"])
    assert "AUC" in res.stderr and "crm_only" in res.stderr

    res = runner.invoke(cli, ["eval", "churn", "--truth", str(tmp_path / "none.csv")],
                        env=cli_env)  # fmt: skip
    assert res.exit_code == 2 and "not found" in res.output
