"""CLI commands of this area (filled in by the area's owner)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
