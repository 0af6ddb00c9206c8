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
    funnel,
    groups,
    ingesting,
    keys,
    measuring,
    quarantine,
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
    funnel,
    measuring,
    reports,
    serving,
    keys,
    quarantine,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def _quiet_third_party_noise() -> None:
    """Library chatter (weight-loading bars, deprecation notices, an ONNX Runtime hint) is
    not for our users: the commands print their own progress and summaries."""
    import logging
    import os
    import warnings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore", category=FutureWarning)

    class _DropQuantizationHint(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing before quantization" not in record.getMessage()

    logging.getLogger().addFilter(_DropQuantizationHint())  # it is logged on the root logger


def main() -> None:
    _quiet_third_party_noise()
    cli(prog_name="undertow")


if __name__ == "__main__":
    main()
