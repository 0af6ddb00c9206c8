"""Review findings in the risk layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import cli
from risk.errors import RiskInputError
from risk.inputs import to_timestamp


@pytest.mark.parametrize("value", ["NaT", "nat", ""])
def test_a_date_that_is_no_date_is_an_input_error(value: str) -> None:
    with pytest.raises(RiskInputError):
        to_timestamp(value)


def test_export_to_an_unwritable_path_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str], tmp_path: Path
) -> None:
    import risk.feeds

    monkeypatch.setattr(risk.feeds, "churn_risk_page", lambda *a, **k: ({}, []))
    target = tmp_path / "no-such-dir" / "feed.csv"
    res = CliRunner().invoke(cli, ["export", "churn-risk", "--out", str(target)], env=cli_env)
    assert res.exit_code == 2, res.output
    assert "--out" in res.output
