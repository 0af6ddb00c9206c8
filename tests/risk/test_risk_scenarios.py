"""Scenarios: assumptions parsed, applied to the as-of features, stored beside the base case."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from synthetic_world import SyntheticWorld

from api.cli import cli
from api.commands.fitting import fit_summary
from ingest.db.schema import scenarios
from ingest.settings import Settings
from risk.errors import NoSnapshotError, RiskInputError
from risk.fit import fit_and_store
from risk.scenarios import apply_assumptions, parse_assumption, run_scenario
from risk.trajectories import build_panel


def test_parse_the_documented_forms() -> None:
    a = parse_assumption("segment=smb:sentiment-=0.2")
    assert (a.target, a.delta, a.where) == ("sentiment", -0.2, (("segment", "smb"),))
    assert parse_assumption("tickets+=30%").factor == pytest.approx(1.3)
    assert parse_assumption("tickets*=1.3").factor == pytest.approx(1.3)
    assert parse_assumption("arr-=10%").factor == pytest.approx(0.9)
    c = parse_assumption("cohort=2024-03,segment=smb: nps -= 1")
    assert c.where == (("cohort", "2024-03"), ("segment", "smb")) and c.delta == -1.0


@pytest.mark.parametrize(
    "bad",
    ["", "sentiment", "mood-=1", "sentiment*=2", "tickets+=3", "tickets-=150%",
     "region=eu:nps-=1", "cohort=24:nps-=1", "sentiment-=abc"],
)  # fmt: skip
def test_bad_assumptions_say_what_is_expected(bad: str) -> None:
    with pytest.raises(RiskInputError, match="expected"):
        parse_assumption(bad)


def test_shifts_touch_only_the_matching_accounts(world: SyntheticWorld) -> None:
    cur = build_panel(world.inputs).current
    starts = world.inputs.accounts.set_index("account_id")["contract_start"]
    assumptions = [parse_assumption(x) for x in ("segment=smb:sentiment-=0.2", "tickets+=50%")]
    out, touched, hit = apply_assumptions(cur, starts, assumptions)
    smb = (cur["segment"] == "smb").to_numpy()
    assert touched == [int(smb.sum()), len(cur)] and hit.all()
    d = out["sentiment_level"] - cur["sentiment_level"]
    np.testing.assert_allclose(d[smb], -0.2)
    np.testing.assert_allclose(d[~smb], 0.0)
    np.testing.assert_allclose((out["sentiment_change"] - cur["sentiment_change"])[smb], -0.2)
    np.testing.assert_allclose(np.expm1(out["ticket_volume"]), 1.5 * np.expm1(cur["ticket_volume"]))
    np.testing.assert_allclose(out["ticket_trend"] - cur["ticket_trend"],
                               out["ticket_volume"] - cur["ticket_volume"])  # fmt: skip
    year = int(pd.Timestamp(starts.iloc[0]).year)
    _, n, _ = apply_assumptions(cur, starts, [parse_assumption(f"cohort={year}:nps-=1")])
    expected = cur["account_id"].map(starts).dt.year.eq(year).sum()
    assert n == [int(expected)] and 0 < n[0] < len(cur)


def test_scenario_needs_a_snapshot(engine: Engine, settings: Settings) -> None:
    with pytest.raises(NoSnapshotError):
        run_scenario(engine, settings, "x", ["sentiment-=0.1"])


def test_scenarios_at_the_cli(
    engine: Engine,
    cli_env: dict[str, str],
    settings: Settings,
    stored_world: SyntheticWorld,
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    fit = fit_summary(fit_and_store(engine, settings, as_of="2026-06-30"))

    res = runner.invoke(cli, ["scenario", "run", "--name", "smb gloom", "--assumption",
                              "segment=smb:sentiment-=0.3", "--json"], env=cli_env)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["run_id"] == fit["run_id"] and out["base_reproduces_snapshot"] is True
    t = out["horizons"]["180"]["total"]
    assert t["scenario"]["expected_churned_arr"] > t["base"]["expected_churned_arr"]
    assert t["base"]["low"] <= t["base"]["expected_churned_arr"] <= t["base"]["high"]
    segs = {s["segment"]: s for s in out["horizons"]["180"]["segments"]}
    assert segs["smb"]["delta"] > 0
    assert all(s["delta"] == 0 for k, s in segs.items() if k != "smb")  # paired draws: no noise
    assert out["assumptions"][0]["where"] == {"segment": "smb"}
    assert out["by_assumption"][0]["delta"]["180"] == pytest.approx(t["delta"], abs=0.05)
    assert "base" in res.stderr and "scenario" in res.stderr and "smb" in res.stderr

    spec = tmp_path / "s.yaml"
    spec.write_text("assumptions:\n  - tickets+=30%\n  - {target: nps, op: '-=', value: 1}\n")
    res = runner.invoke(cli, ["scenario", "run", "--name", "support storm", "--file", str(spec),
                              "--json"], env=cli_env)  # fmt: skip
    assert res.exit_code == 0, res.output
    storm = json.loads(res.stdout.strip().splitlines()[-1])
    assert [a["text"] for a in storm["assumptions"]] == ["tickets+=30%", "nps-=1"]
    assert storm["horizons"]["365"]["total"]["delta"] > 0
    alone = [b["delta"]["365"] for b in storm["by_assumption"]]
    assert len(alone) == 2 and alone[1] > 0  # an NPS fall alone raises the risk

    res = runner.invoke(cli, ["scenario", "run", "--name", "bad", "--assumption", "mood-=1"],
                        env=cli_env)  # fmt: skip
    assert res.exit_code == 2 and "expected a target" in res.output

    res = runner.invoke(cli, ["scenario", "list", "--json"], env=cli_env)
    assert res.exit_code == 0
    listed = json.loads(res.stdout.strip().splitlines()[-1])["scenarios"]
    assert [s["name"] for s in listed] == ["support storm", "smb gloom"]
    assert listed[1]["assumptions"] == ["segment=smb:sentiment-=0.3"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(scenarios)).scalar() == 2


HUGE = "9" * 400


@pytest.mark.parametrize(
    "bad",
    [f"sentiment-={HUGE}", f"segment=smb:nps+={HUGE}", f"csat-={HUGE}.5", f"tickets*={HUGE}",
     f"tickets+={HUGE}%", f"arr*={HUGE}", f"arr+={HUGE}%", "tickets*=1" + "0" * 20,
     "arr*=1" + "0" * 300, "sentiment-=2.5", "nps+=11", "arr+=100000%", "sentiment+=-3", "csat+=-4.5"],
)  # fmt: skip
def test_out_of_range_assumption_values_say_what_is_allowed(bad: str) -> None:
    with pytest.raises(RiskInputError, match="expected .*at most"):
        parse_assumption(bad)


def test_in_range_extremes_still_parse() -> None:
    assert parse_assumption("sentiment-=2").delta == -2.0  # the scale's whole width
    assert parse_assumption("nps+=10").delta == 10.0
    assert parse_assumption("tickets*=100").factor == 100.0
    assert parse_assumption("arr+=9900%").factor == pytest.approx(100.0)
    assert parse_assumption("tickets+=-40%").factor == pytest.approx(0.6)


@pytest.mark.parametrize("bad", ["tickets+=-500%", "arr-=-1000000%", "arr-=101%"])
def test_a_percent_never_makes_a_negative_or_huge_factor(bad: str) -> None:
    with pytest.raises(RiskInputError, match="expected .*at most"):
        parse_assumption(bad)


def test_a_400_digit_assumption_is_a_usage_error_at_the_cli(
    engine: Engine, cli_env: dict[str, str], settings: Settings, stored_world: SyntheticWorld
) -> None:
    fit_summary(fit_and_store(engine, settings, as_of="2026-06-30"))
    runner = CliRunner()
    for bad in (f"sentiment-={HUGE}", f"tickets*={HUGE}", f"arr+={HUGE}%", "arr*=1" + "0" * 300):
        res = runner.invoke(cli, ["scenario", "run", "--name", "huge", "--assumption", bad,
                                  "--json"], env=cli_env)  # fmt: skip
        assert res.exit_code == 2, (bad[:20], res.output[-300:])
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: expected") and "at most" in lines[0]
        assert res.stdout == ""
    # the extremes allowed still run, with finite figures
    res = runner.invoke(cli, ["scenario", "run", "--name", "edge", "--assumption", "tickets*=100",
                              "--assumption", "arr*=100", "--assumption", "sentiment-=2",
                              "--json"], env=cli_env)  # fmt: skip
    assert res.exit_code == 0, res.output[-500:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert np.isfinite(out["horizons"]["365"]["total"]["scenario"]["expected_churned_arr"])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(scenarios)).scalar() == 1
