"""Bad settings: exit 2 and one line that names the variable (never 'internal error')."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import error_line, undertow

from api.settings import ApiSettings
from ingest.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("UNDERTOW_DATABASE_URL", "nonsense", "not a usable SQLAlchemy URL"),
        ("UNDERTOW_DATABASE_URL", "postgres://u:hunter2@db/x", "not a usable SQLAlchemy URL"),
        ("UNDERTOW_DATABASE_URL", "mysql://u@db/x", "driver is not installed"),
        ("UNDERTOW_MAX_TEXT_CHARS", "20k", "valid integer"),
        ("UNDERTOW_INGEST_WORKERS", "99", "less than or equal to 64"),
        ("UNDERTOW_FUTURE_TOLERANCE_DAYS", "-1", "greater than or equal to 0"),
        ("UNDERTOW_MAX_QUOTED_LINES", "1", "greater than or equal to 2"),
    ],
)
def test_a_bad_store_setting_exits_2_naming_the_variable(
    tmp_path: Path, cli_env: dict[str, str], variable: str, value: str, says: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("ticket_id,created_at,body\nT1,2025-01-01,hello\n", encoding="utf-8")
    result = undertow({**cli_env, variable: value}, "ingest", "tickets", str(path), code=2)
    line = error_line(result)
    assert line.startswith(f"error: {variable}: ") and says in line
    assert "hunter2" not in result.output  # a URL's password is never echoed


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("UNDERTOW_API_RATE_LIMIT", "-5"),
        ("UNDERTOW_API_RATE_LIMIT", "nan"),
        ("UNDERTOW_API_MAX_RECORDS", "0"),
        ("UNDERTOW_API_AUTH_FAILURE_WINDOW", "0"),
        ("UNDERTOW_API_CACHE_SECONDS", "soon"),
    ],
)
def test_a_bad_api_setting_is_refused_by_serve_before_it_serves(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    import api.commands.serving as serving

    monkeypatch.setattr(serving, "run_server", lambda *a: pytest.fail("must not serve"))
    result = undertow({**cli_env, variable: value}, "serve", code=2)
    assert error_line(result).startswith(f"error: {variable}: ")
    with pytest.raises(SettingsError, match=variable):
        ApiSettings.from_env({variable: value})


def test_settings_read_every_variable_and_empty_means_unset() -> None:
    s = Settings.from_env(
        {"UNDERTOW_MAX_TEXT_CHARS": "500", "UNDERTOW_INGEST_WORKERS": "", "OTHER": "x"}
    )
    assert s.max_text_chars == 500 and s.ingest_workers is None
    a = ApiSettings.from_env({"UNDERTOW_API_RATE_LIMIT": "0", "UNDERTOW_API_CORS_ORIGINS": "a, b"})
    assert a.rate_limit_per_second == 0 and a.cors_origins == ("a", "b")
