"""`undertow fit` and `undertow export churn-risk` at the boundary users touch."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update
from synthetic_world import SyntheticWorld

from api.cli import cli
from ingest.db.schema import accounts

FIT_KEYS = {
    "as_of",
    "accounts",
    "model_version",
    "c_index",
    "integrated_brier",
    "auc_180d",
    "run_id",
}
CONTRACT = ["account_id", "arr", "p_churn", "p_churn_low", "p_churn_high", "revenue_at_risk",
            "expected_ltv", "as_of", "model_version"]  # fmt: skip


def _run(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_export_before_any_fit_says_what_to_do(engine: Engine, cli_env: dict[str, str]) -> None:
    res = _run(["export", "churn-risk"], cli_env)
    assert res.exit_code == 2
    assert "fit" in res.output


def test_fit_then_export_every_format(
    engine: Engine, cli_env: dict[str, str], stored_world: SyntheticWorld, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    victim = stored_world.inputs.accounts.loc[
        stored_world.inputs.accounts["churned_at"].isna(), "account_id"
    ].iloc[0]
    with engine.begin() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.account_id == victim)
            .values(name='=HYPERLINK("http://x")')
        )

    res = _run(["fit", "--as-of", "2026-06-30", "--json"], cli_env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert FIT_KEYS <= set(out)
    assert out["as_of"] == "2026-06-30"
    assert 0.5 < out["c_index"] <= 1 and 0 < out["integrated_brier"] < 0.25
    assert set(out["backtest"]) == {"full", "no_text", "crm_only"}
    assert out["expansion"]["status"] == "ok" and 0.5 < out["expansion"]["backtest_auc"] <= 1
    assert "expansion model expansion_pem-v1-" in res.stderr and "back-test AUC" in res.stderr

    res = _run(["export", "churn-risk", "--horizon-days", "180"], cli_env)
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0])[: len(CONTRACT)] == CONTRACT
    assert len(rows) == out["accounts"]
    bad = next(r for r in rows if r["account_id"] == victim)
    assert bad["name"].startswith("'=")  # neutralised against formula injection
    assert not bad["p_churn"].startswith("'") and 0 <= float(bad["p_churn"]) <= 1
    assert float(bad["revenue_at_risk"]) == pytest.approx(float(bad["arr"]) * float(bad["p_churn"]))

    res = _run(["export", "churn-risk", "--format", "json", "--horizon-days", "365"], cli_env)
    data = json.loads(res.stdout)
    assert isinstance(data[0]["p_churn"], float) and data[0]["as_of"] == "2026-06-30"

    target = tmp_path / "feed.parquet"
    res = _run(["export", "churn-risk", "--format", "parquet", "--out", str(target)], cli_env)
    assert res.exit_code == 0
    frame = pd.read_parquet(target)
    assert list(frame.columns)[: len(CONTRACT)] == CONTRACT and len(frame) == out["accounts"]


def test_bad_as_of_is_exit_2(engine: Engine, cli_env: dict[str, str]) -> None:
    res = _run(["fit", "--as-of", "not-a-date"], cli_env)
    assert res.exit_code == 2
