"""The CLI surfaces: `undertow report dark-funnel` and `undertow eval channels`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from api.cli import cli
from marketing.dark_funnel import measure


def test_report_dark_funnel_json_matches_measure(
    funnel_world: Engine, cli_env: dict[str, str]
) -> None:
    res = CliRunner().invoke(cli, ["report", "dark-funnel", "--json"], env=cli_env)
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    expected = measure(funnel_world)
    assert payload["dark_share"] == expected["dark_share"]
    assert payload["channels"] == expected["channels"]
    assert "dark share" in res.stderr


def test_report_dark_funnel_period_and_bad_dates(
    funnel_world: Engine, cli_env: dict[str, str]
) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli,
        ["report", "dark-funnel", "--from", "2025-02-01", "--to", "2025-02-28", "--json"],
        env=cli_env,
    )
    assert res.exit_code == 0 and json.loads(res.stdout)["n"] == 3
    bad = runner.invoke(cli, ["report", "dark-funnel", "--from", "2025-13-01"], env=cli_env)
    assert bad.exit_code == 2
    flipped = runner.invoke(
        cli, ["report", "dark-funnel", "--from", "2025-03-01", "--to", "2025-01-01"], env=cli_env
    )
    assert flipped.exit_code == 2 and "must not be after" in flipped.stderr


def test_eval_channels_on_a_given_file(tmp_path: Path, cli_env: dict[str, str]) -> None:
    csv = tmp_path / "labeled.csv"
    csv.write_text(
        "answer,channels\nChatGPT,ai_assistant\nG2,review_site\na friend,peer_referral\n"
        "Google,podcast\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(cli, ["eval", "channels", str(csv), "--json"], env=cli_env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n"] == 4 and out["accuracy"] == 0.75
    assert out["confusion"]["podcast"] == {"search": 1}
    assert out["errors"] == [{"answer": "Google", "gold": "podcast", "predicted": "search"}]


def test_eval_channels_rejects_bad_files(tmp_path: Path, cli_env: dict[str, str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,y\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["eval", "channels", str(bad)], env=cli_env)
    assert res.exit_code == 2 and "answer" in res.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("answer,channels\nx,telepathy\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["eval", "channels", str(wrong)], env=cli_env)
    assert res.exit_code == 2 and "telepathy" in res.stderr
    missing = CliRunner().invoke(cli, ["eval", "channels", str(tmp_path / "nope.csv")], env=cli_env)
    assert missing.exit_code == 2
