"""The `undertow` command line: a thin shell over the library.

Command groups live in ``api/commands/`` (one module per area); this module only
assembles them.
"""

from __future__ import annotations

import click

from api.commands import (
    aspects,
    channels,
    db,
    demo,
    fitting,
    groups,
    ingesting,
    keys,
    reports,
    scoring,
    serving,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="undertow")
def cli() -> None:
    """Undertow: customer sentiment, churn risk and dark-funnel intelligence."""


# Area modules register subcommands on the shared groups when imported, above.
for module in (
    groups,
    db,
    ingesting,
    demo,
    scoring,
    aspects,
    channels,
    fitting,
    reports,
    serving,
    keys,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="undertow")


if __name__ == "__main__":
    main()
