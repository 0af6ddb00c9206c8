"""Command groups that several areas add subcommands to (`eval`, `train`, `report`, `export`).

An area module adds its subcommand with ``@eval_group.command("sentiment")`` etc.; the
groups themselves are registered by ``api/cli.py``.
"""

from __future__ import annotations

import click


@click.group("eval")
def eval_group() -> None:
    """Measure a model on a labeled file."""


@click.group("train")
def train_group() -> None:
    """Rebuild a model's committed weights."""


@click.group("report")
def report_group() -> None:
    """Print an analysis as a table (or JSON)."""


@click.group("export")
def export_group() -> None:
    """Write a feed to a file."""


COMMANDS = [eval_group, train_group, report_group, export_group]
