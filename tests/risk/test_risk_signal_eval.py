"""`undertow eval signals`: the sales lists as served, judged against a world's truth."""

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
from risk.fit import fit_and_store


def _rate(ids: list[str], hit: pd.Series, n: int) -> float:
    return float(hit.reindex(ids[:n]).mean())


def test_eval_signals_at_the_cli(
    engine: Engine,
    settings: Settings,
    cli_env: dict[str, str],
    stored_world: SyntheticWorld,
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    truth = tmp_path / "truth.csv"
    stored_world.write_truth(truth)
    fit = fit_summary(fit_and_store(engine, settings))
    res = runner.invoke(cli, ["eval", "signals", "--truth", str(truth), "--json"], env=cli_env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["run_id"] == fit["run_id"] and out["accounts"] == fit["accounts"]

    # recompute from the snapshot and the truth alone
    with engine.connect() as conn:
        pred = pd.DataFrame(
            conn.execute(
                select(
                    risk_predictions.c.account_id,
                    risk_predictions.c.p_churn_90d,
                    risk_predictions.c.p_expand_180d,
                ).where(risk_predictions.c.run_id == fit["run_id"])
            ).all()
        ).set_index("account_id")
    as_of, end = pd.Timestamp(out["as_of"]), pd.Timestamp(out["as_of"]) + pd.Timedelta(days=180)
    t = stored_world.truth.set_index("account_id").reindex(pred.index)
    churned = ((t["churned_at_true"] > as_of) & (t["churned_at_true"] <= end)).astype(float)
    opened = ((t["expanded_at_true"] > as_of) & (t["expanded_at_true"] <= end)).astype(float)
    by_churn = list(pred.sort_values("p_churn_90d", ascending=False).index)
    by_expand = list(pred.sort_values("p_expand_180d", ascending=False).index)
    risk, exp = out["risk"], out["expansion"]
    assert risk["base_rate"] == pytest.approx(churned.mean(), abs=1e-4)
    assert exp["base_rate"] == pytest.approx(opened.mean(), abs=1e-4)
    for n in (25, 50):
        got = risk["rankings"]["p_churn_90d"]["top"][str(n)]
        assert got["rate"] == pytest.approx(_rate(by_churn, churned, n), abs=1e-4)
        got = exp["rankings"]["p_expand_180d"]["top"][str(n)]
        assert got["rate"] == pytest.approx(_rate(by_expand, opened, n), abs=1e-4)
    # the models find what they are for, above the base rate
    assert risk["rankings"]["p_churn_90d"]["auc"] > 0.65
    assert risk["rankings"]["p_churn_90d"]["top"]["25"]["rate"] > risk["base_rate"]
    from sklearn.metrics import roc_auc_score

    assert exp["rankings"]["p_expand_180d"]["auc"] == pytest.approx(
        roc_auc_score(opened, pred["p_expand_180d"]), abs=1e-4
    )
    assert (
        risk["rankings"]["oracle"]["top"]["25"]["rate"]
        >= risk["rankings"]["p_churn_90d"]["top"]["25"]["rate"]
    )
    assert {"trend", "revenue_at_risk"} <= set(risk["rankings"])
    assert {"trend", "low_p_churn"} <= set(exp["rankings"])
    assert "top 25" in res.stderr and "p_expand_180d" in res.stderr

    bare = tmp_path / "churn_only.csv"
    stored_world.write_truth(bare, expansions=False)
    res = runner.invoke(cli, ["eval", "signals", "--truth", str(bare), "--json"], env=cli_env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["expansion"]["status"] == "skipped"
    res = runner.invoke(cli, ["eval", "signals", "--truth", str(tmp_path / "no.csv")], env=cli_env)
    assert res.exit_code == 2 and "not found" in res.output
