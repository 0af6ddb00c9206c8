"""`undertow report funnel` and `undertow export funnel`: the revenue funnel on the
command line, the figures of ``GET /v1/funnel`` (a thin shell over ``marketing.funnel``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from api.cli_support import console, emit, handle_errors, json_option, state, write_output
from api.commands.groups import export_group, report_group

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _period_options(fn: Any) -> Any:
    fn = click.option("--by", type=click.Choice(["channel", "segment"]), default="channel",
                      show_default=True, help="Group by sourced channel or by segment.")(fn)  # fmt: skip
    fn = click.option("--to", "date_to", type=DAY, default=None, help="Last day (YYYY-MM-DD).")(fn)
    return click.option("--from", "date_from", type=DAY, default=None,
                        help="First day (YYYY-MM-DD); default: the whole store.")(fn)  # fmt: skip


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, spec: str = ",.0f") -> str:
    return "-" if v is None else format(v, spec)


@report_group.command("funnel")
@_period_options
@json_option
@handle_errors
def report_funnel(
    date_from: datetime | None, date_to: datetime | None, by: str, as_json: bool
) -> None:
    """Stage counts, conversion rates (90% intervals), win rate and pipeline velocity per
    channel or segment (the GET /v1/funnel figures)."""
    from marketing.funnel import funnel

    result = funnel(state().engine(), _day(date_from), _day(date_to), by)
    table = Table(title=f"revenue funnel by {by}, {result['from']} .. {result['to']}")
    heads = ("group", "leads", "MQLs", "SQLs", "opps", "won", "lost", "lead>MQL", "MQL>SQL",
             "SQL>opp", "opp>won", "win rate", "avg deal", "days to close", "velocity/day")  # fmt: skip
    for col in heads:
        table.add_column(col, justify="left" if col == "group" else "right")
    for g in [*result["groups"], result["total"]]:
        table.add_row(
            g["group"], *(str(g[k]) for k in ("leads", "mqls", "sqls", "opportunities", "won",
                                               "lost")),
            *(_pct(g[k]) for k in ("lead_to_mql_rate", "mql_to_sql_rate",
                                   "sql_to_opportunity_rate", "opportunity_to_won_rate",
                                   "win_rate")),
            _num(g["average_deal"]), _num(g["median_days_opportunity_to_close"], ".1f"),
            _num(g["pipeline_velocity"]),
        )  # fmt: skip
    console().print(table)
    total = result["total"]
    summary = (
        f"{total['leads']} leads, {total['opportunities']} opportunities "
        f"({total['unresolved_opportunities']} of prospects), pipeline {_num(total['pipeline'])}; "
        f"KPI definitions {result['definitions_version']}"
    )
    emit(result, as_json, summary)


@export_group.command("funnel")
@_period_options
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), default="csv",
              show_default=True)  # fmt: skip
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: stdout).")  # fmt: skip
@handle_errors
def export_funnel(
    date_from: datetime | None, date_to: datetime | None, by: str, fmt: str, out: Path | None
) -> None:
    """Write the funnel, one row per group and one for the total (the columns of
    GET /v1/funnel?format=csv). Text cells that start with =, +, -, @ are prefixed with a
    quote so a spreadsheet never runs them as formulas."""
    from api.feed_formats import neutralize
    from api.routers.funnel import funnel_file
    from marketing.funnel import funnel, funnel_rows

    result = funnel(state().engine(), _day(date_from), _day(date_to), by)
    if fmt == "json":
        safe = [{k: neutralize(v) for k, v in r.items()} for r in funnel_rows(result)]
        data = (json.dumps(safe, default=str, allow_nan=False) + "\n").encode()
    else:
        data, _ = funnel_file(result, fmt)
    write_output(data, out)
    groups = len(result["groups"])
    emit(
        {}, False, f"funnel by {by} ({groups} groups + total) written to {out or 'stdout'} as {fmt}"
    )


COMMANDS: list[click.Command] = []  # subcommands of `report` and `export` only
