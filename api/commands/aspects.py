"""Aspect commands: `undertow tag-aspects`, `undertow eval aspects`, `undertow train aspects`,
`undertow report aspects`.

Thin shells over ``nlp.aspects``: each reads its options, calls the library, prints a
summary on stderr and, with --json, one JSON object on stdout.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import click

from api.cli_support import emit, handle_errors, json_option, progress, state
from api.commands.groups import eval_group, report_group, train_group
from ingest.errors import NotFoundError


def _clean(value: Any) -> Any:
    """NaN (no sentiment known) -> None, so the JSON stays valid."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@click.command("tag-aspects")
@click.option(
    "--no-sentence-sentiment",
    is_flag=True,
    help="Give each aspect its text's whole sentiment (skip scoring sentences).",
)
@json_option
@handle_errors
def tag_aspects(no_sentence_sentiment: bool, as_json: bool) -> None:
    """Tag every stored text not yet tagged by the current aspects model."""
    from nlp.aspects import tag_store

    st = state()
    engine = st.engine()
    with progress("tagging aspects") as advance:
        result = tag_store(
            engine, st.settings, advance, sentence_sentiment=not no_sentence_sentiment
        )
    summary = (
        f"tagged {result['tagged']} texts ({result['cached']} already tagged), "
        f"{result['rows']} aspect rows, model {result['model_version']}"
    )
    emit(result, as_json, summary)


@eval_group.command("aspects")
@click.argument("csv", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="aspects", show_default=True, help="Pipe-separated aspects.")
@click.option(
    "--split",
    type=click.Choice(["test", "dev", "all"]),
    default="test",
    show_default=True,
    help="Rows of the CSV's `split` column to measure (a CSV without one: all rows).",
)
@click.option("--rules-only", is_flag=True, help="Measure the keyword rules alone (no model).")
@json_option
@handle_errors
def eval_aspects(
    csv: Path | None, text_col: str, label_col: str, split: str, rules_only: bool, as_json: bool
) -> None:
    """Micro/macro F1 and per-aspect precision/recall on a labeled CSV (default: the
    project's labeled sample, test split), next to the rules alone."""
    from nlp.aspects.evaluation import evaluate
    from nlp.aspects.tagger import AspectTagger

    tagger = AspectTagger(use_embeddings=False) if rules_only else None
    result = evaluate(
        csv,
        tagger=tagger,
        split=None if split == "all" else split,
        text_col=text_col,
        label_col=label_col,
    )
    lines = [
        f"n={result['n']}  micro_f1={result['micro_f1']:.3f}  macro_f1={result['macro_f1']:.3f}"
        f"  (rules alone: micro_f1={result['rules']['micro_f1']:.3f}"
        f" macro_f1={result['rules']['macro_f1']:.3f})",
        f"{'aspect':<14}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}{'rules f1':>10}",
    ]
    for aspect, m in result["per_aspect"].items():
        rules_f1 = result["rules"]["per_aspect"][aspect]["f1"]
        lines.append(
            f"{aspect:<14}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}"
            f"{m['support']:>9}{rules_f1:>10.3f}"
        )
    emit(result, as_json, "\n".join(lines))


@train_group.command("aspects")
@click.option(
    "--data",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Labeled CSV (default: the project's sample); only its dev rows are read.",
)
@json_option
@handle_errors
def train_aspects(data: Path | None, as_json: bool) -> None:
    """Rebuild the aspect head's committed weights from the dev split."""
    from nlp.aspects.training import train_head

    card = train_head(data, on_progress=lambda msg: click.echo(msg, err=True))
    emit(
        card,
        as_json,
        f"head saved to {card['path']} (C={card['C']}, threshold={card['threshold']}, "
        f"dev CV micro-F1 {card['cv_micro_f1_dev']:.3f})",
    )


@report_group.command("aspects")
@click.option("--account", "account_id", default=None, help="One account only.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@json_option
@handle_errors
def report_aspects(account_id: str | None, as_of: Any, as_json: bool) -> None:
    """Per-aspect sentiment by account and month (from `undertow tag-aspects`)."""
    from nlp.aspects import account_aspect_sentiment

    day: date | None = as_of.date() if as_of is not None else None
    frame = account_aspect_sentiment(state().engine(), as_of=day, account_id=account_id)
    if account_id is not None and frame.empty:
        raise NotFoundError(
            f"no tagged texts for account '{account_id}' (run `undertow tag-aspects`)"
        )
    rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    overall = (
        frame.groupby("aspect")
        .agg(n=("n", "sum"))
        .sort_values("n", ascending=False)
        .reset_index()
        .to_dict(orient="records")
        if not frame.empty
        else []
    )
    summary = "\n".join(f"{r['aspect']:<14}{int(r['n']):>8}" for r in overall) or "no tagged texts"
    emit({"rows": rows, "n_rows": len(rows), "aspects": overall}, as_json, summary)


COMMANDS: list[click.Command] = [tag_aspects]
