"""Numeric and date CLI options out of range (huge, negative, inf, nan) are usage errors:
exit 2 with one line that says what to fix, never an internal failure (exit 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli

HUGE = "9" * 400


def _error_line(res: Any) -> str:
    """The one line of a refused command (click's usage errors also print a usage hint)."""
    lines = [ln for ln in res.stderr.splitlines() if ln.lower().startswith("error")]
    assert len(lines) == 1, res.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--seed", "-1"], "--seed"),
        (["--end", "9999-12-31"], "--end"),
        (["--end", "0001-03"], "--end"),
        (["--months", "120", "--end", "0005-01"], "--end"),
        (["--end", "2200-01"], "--end"),
        (["--accounts", HUGE], "--accounts"),
    ],
)
def test_demo_refuses_out_of_range_seeds_and_end_dates(
    args: list[str], says: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    res = CliRunner().invoke(
        cli, ["demo", "--out", str(tmp_path / "w"), "--accounts", "12", "--months", "6", *args],
        env=cli_env,
    )  # fmt: skip
    assert res.exit_code == 2, res.output[-300:]
    assert says in _error_line(res)
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())


def test_demo_still_takes_a_large_seed_and_a_far_end(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    res = CliRunner().invoke(
        cli, ["demo", "--out", str(tmp_path / "w"), "--accounts", "12", "--months", "6",
              "--seed", HUGE[:60], "--end", "2199-12", "--json"], env=cli_env,
    )  # fmt: skip
    assert res.exit_code == 0, res.output[-300:]
    assert (tmp_path / "w" / "accounts.csv").exists()


@pytest.mark.parametrize("c", ["nan", "inf", "-inf", "1e400", HUGE, "-1", "0"])
def test_train_channels_refuses_a_non_finite_or_non_positive_c(
    c: str, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nlp.channels.head as head

    trained: list[float] = []
    monkeypatch.setattr(head, "HEAD_PATH", tmp_path / "head.json")  # never the committed head
    monkeypatch.setattr(head, "train_head", lambda *a, c, **k: trained.append(c) or {})
    monkeypatch.setattr("nlp.encoder.Encoder", lambda *a, **k: object())
    res = CliRunner().invoke(cli, ["train", "channels", "--c", c], env=cli_env)
    assert res.exit_code == 2, res.output[-300:]
    assert "--c" in _error_line(res) and trained == []


def test_train_channels_passes_a_valid_c_on(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nlp.channels.head as head

    trained: list[float] = []
    monkeypatch.setattr(head, "HEAD_PATH", tmp_path / "head.json")
    monkeypatch.setattr(
        head, "train_head", lambda *a, c, **k: trained.append(c) or {"version": "test"}
    )
    monkeypatch.setattr("nlp.encoder.Encoder", lambda *a, **k: object())
    res = CliRunner().invoke(cli, ["train", "channels", "--c", "2.5"], env=cli_env)
    assert res.exit_code == 0, res.output[-300:]
    assert trained == [2.5]


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "2262-04-12", "2200-01-01"])
def test_fit_refuses_an_as_of_outside_the_supported_dates(
    as_of: str, cli_env: dict[str, str]
) -> None:
    res = CliRunner().invoke(cli, ["fit", "--as-of", as_of], env=cli_env)
    assert res.exit_code == 2, res.output[-300:]
    line = _error_line(res)
    assert as_of in line and "between" in line
