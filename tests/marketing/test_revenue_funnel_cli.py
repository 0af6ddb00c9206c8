"""`undertow report funnel` and `undertow export funnel` at the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner
from sqlalchemy import Engine

from api.cli import cli
from marketing.funnel import ROW_COLUMNS, funnel

Q1 = ["--from", "2025-01-01", "--to", "2025-03-31"]


def test_report_funnel_json_is_the_library_result(
    revenue_world: Engine, cli_env: dict[str, str]
) -> None:
    res = CliRunner().invoke(cli, ["report", "funnel", *Q1, "--by", "segment", "--json"],
                             env=cli_env)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    expected = funnel(revenue_world, date(2025, 1, 1), date(2025, 3, 31), "segment")
    assert out["total"]["leads"] == expected["total"]["leads"] == 5
    assert [g["group"] for g in out["groups"]] == ["ent", "mid", "smb", "unknown"]
    assert out["groups"][2]["win_rate"] == expected["groups"][2]["win_rate"]
    assert "revenue funnel by segment" in res.stderr and "KPI definitions" in res.stderr


def test_bad_options_exit_2_with_one_line(revenue_world: Engine, cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    late = runner.invoke(cli, ["report", "funnel", "--from", "2025-03-01", "--to", "2025-01-01"],
                         env=cli_env)  # fmt: skip
    assert late.exit_code == 2 and "must not be after" in late.stderr
    assert len(late.stderr.strip().splitlines()) == 1
    for args in (["--by", "campaign"], ["--from", "March"], ["--format", "xlsx"]):
        res = runner.invoke(cli, ["export", "funnel", *args], env=cli_env)
        assert res.exit_code == 2, (args, res.output)


def test_export_funnel_files(
    revenue_world: Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "funnel.csv"
    res = runner.invoke(cli, ["export", "funnel", *Q1, "--out", str(out)], env=cli_env)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ROW_COLUMNS and rows[-1]["group"] == "total"
    assert sum(int(r["won"]) for r in rows[:-1]) == int(rows[-1]["won"]) == 3
    pq_out = tmp_path / "funnel.parquet"
    res = runner.invoke(cli, ["export", "funnel", "--by", "segment", "--format", "parquet",
                              "--out", str(pq_out)], env=cli_env)  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pq.read_table(pq_out).to_pylist()
    assert [r["group"] for r in table] == ["ent", "mid", "smb", "unknown", "total"]
    stdout = runner.invoke(cli, ["export", "funnel", "--format", "json"], env=cli_env)
    assert json.loads(stdout.stdout)[-1]["group"] == "total"
    bad = runner.invoke(cli, ["export", "funnel", "--out", str(tmp_path / "no" / "x.csv")],
                        env=cli_env)  # fmt: skip
    assert bad.exit_code == 2 and "cannot write" in bad.stderr
