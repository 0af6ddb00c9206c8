"""`undertow keys create|list|revoke`: API keys, one role each, stored only as hashes."""

from __future__ import annotations

import sys

import click

from api.cli_support import emit, handle_errors, json_option, state
from api.keys import ROLES


@click.group("keys")
def keys_group() -> None:
    """Create, list and revoke API keys (roles: sales, finance, marketing, admin)."""


@keys_group.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the key may read.")
@click.option("--name", default=None, help="A label for lists and logs (who holds the key).")
@json_option
@handle_errors
def create(role: str, name: str | None, as_json: bool) -> None:
    """Print a new key once (stdout); only its salted hash is stored."""
    from api.keys import create_key

    created = create_key(state().engine(), role, name=name)
    summary = (
        f"created {role} key {created['key_id']}"
        + (f" ({name})" if name else "")
        + ": it is shown once, store it now"
    )
    emit(created, as_json, summary)
    if not as_json:
        sys.stdout.write(created["key"] + "\n")


@keys_group.command("list")
@click.option("--active", is_flag=True, help="Leave out revoked keys.")
@json_option
@handle_errors
def list_(active: bool, as_json: bool) -> None:
    """Every key's id, role, name and dates (never a secret)."""
    from api.keys import list_keys

    keys = list_keys(state().engine(), include_revoked=not active)
    lines = [f"{len(keys)} key(s)"] + [
        f"  {k['key_id']}  {k['role']:9s}  {'revoked ' + str(k['revoked_at']) if k['revoked_at'] else 'active':28s}  {k['name'] or ''}"
        for k in keys
    ]
    emit({"keys": keys}, as_json, "\n".join(lines))


@keys_group.command("revoke")
@click.argument("key_id")
@json_option
@handle_errors
def revoke(key_id: str, as_json: bool) -> None:
    """Revoke a key by its id (the part after `ut_`); effective at once on every worker."""
    from api.keys import parse_key, revoke_key

    parsed = parse_key(key_id)  # a whole key works too
    result = revoke_key(state().engine(), parsed[0] if parsed else key_id)
    emit(result, as_json, f"revoked {result['role']} key {result['key_id']}")


COMMANDS: list[click.Command] = [keys_group]
