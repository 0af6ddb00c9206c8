"""`undertow keys` and `undertow serve` at the boundary users touch (CliRunner on api.cli)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.cli import cli
from api.keys import KeyVerifier


def _run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_keys_create_list_revoke(cli_env: dict[str, str], app_factory: Any) -> None:
    created = _run(cli_env, "keys", "create", "--role", "finance", "--name", "cfo", "--json")
    assert created.exit_code == 0, created.output
    payload = json.loads(created.stdout)
    assert payload["role"] == "finance" and payload["key"].startswith("ut_")

    plain = _run(cli_env, "keys", "create", "--role", "sales")
    assert plain.exit_code == 0 and plain.stdout.strip().startswith("ut_")  # the key alone

    listed = json.loads(_run(cli_env, "keys", "list", "--json").stdout)["keys"]
    assert {k["role"] for k in listed} >= {"finance", "sales"}
    assert payload["key"] not in json.dumps(listed)  # never a secret in a list

    app = app_factory()
    app.state.key_verifier = KeyVerifier()
    headers = {"Authorization": f"Bearer {payload['key']}"}
    with TestClient(app) as client:
        assert client.get("/v1/revenue-risk", headers=headers).status_code == 200
        revoked = _run(cli_env, "keys", "revoke", payload["key_id"], "--json")
        assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked_at"]
        assert client.get("/v1/revenue-risk", headers=headers).status_code == 401


def test_keys_errors_exit_2_with_one_line(cli_env: dict[str, str]) -> None:
    bad_role = _run(cli_env, "keys", "create", "--role", "ceo")
    assert bad_role.exit_code == 2
    unknown = _run(cli_env, "keys", "revoke", "ffffffffffffffff")
    assert unknown.exit_code == 2 and "no API key" in unknown.output


def test_serve_and_quickstart_are_registered() -> None:
    for command in ("serve", "quickstart"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "--port" in result.output
