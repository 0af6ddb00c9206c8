"""Sentiment commands: ``undertow score``, ``undertow eval sentiment``, ``undertow train sentiment``."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli_support import (
    compute_engine,
    emit,
    engine_options,
    handle_errors,
    json_option,
    progress,
    state,
)
from api.commands.groups import eval_group, train_group


@click.command("score")
@click.option(
    "--sentiment-only",
    is_flag=True,
    help="Score sentiment only; skip aspect tagging and attribution-channel classification.",
)
@engine_options
@json_option
@handle_errors
def score(
    sentiment_only: bool,
    engine_kind: str,
    ray_address: str | None,
    ray_workers: int | None,
    as_json: bool,
) -> None:
    """Score every stored text the current sentiment model has not scored yet, then tag
    aspects and classify attribution answers (each cached by text and model version),
    in this process or on Ray (--engine ray)."""
    from nlp.scoring import count_pending, score_store
    from nlp.sentiment import current_model_version

    st = state()
    engine = st.engine()
    pending, _ = count_pending(engine, current_model_version(st.settings))
    with compute_engine(engine_kind, ray_address, ray_workers) as compute:
        with progress("scoring sentiment", total=pending) as advance:
            result = score_store(engine, st.settings, on_progress=advance, compute=compute)
        summary = (
            f"scored {result['scored']} texts ({result['cached']} cached) with "
            f"{result['model_version']} at {result['texts_per_second']} texts/s"
            + (f" on {compute.workers} Ray workers" if compute.distributed else "")
        )
        if not sentiment_only:
            from nlp.aspects import tag_store
            from nlp.channels import classify_store

            with progress("tagging aspects") as advance:
                aspects = tag_store(engine, st.settings, advance, compute=compute)
            with progress("classifying attribution answers") as advance:
                channels = classify_store(engine, st.settings, advance, compute=compute)
            result = {**result, "aspects": aspects, "channels": channels}
            summary += (
                f"\ntagged aspects of {aspects['tagged']} texts ({aspects['cached']} cached); "
                f"classified {channels['classified']} attribution answers ({channels['cached']} cached)"
            )
    emit(result, as_json, summary)


@eval_group.command("sentiment")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
@click.option("--text-col", default="text", show_default=True, help="Column holding the text.")
@click.option("--label-col", default="label", show_default=True, help="Column holding the label.")
@json_option
@handle_errors
def eval_sentiment(csv_path: Path, text_col: str, label_col: str, as_json: bool) -> None:
    """Score a labeled CSV (negative/neutral/positive, or two of them; also 0/1, -1/0/1)
    and compare with the VADER lexicon on the same rows."""
    from nlp.evaluation import evaluate_scorer, read_labeled
    from nlp.sentiment import load_scorer

    df = read_labeled(csv_path, text_col, label_col)
    scorer = load_scorer(state().settings)
    result = evaluate_scorer(scorer, df["text"].tolist(), df["y"].to_numpy())
    base = result["baseline"]
    emit(
        result,
        as_json,
        f"n={result['n']} accuracy={result['accuracy']} macro_f1={result['macro_f1']} "
        f"(VADER: accuracy={base['accuracy']} macro_f1={base['macro_f1']}) "
        f"ece={result['ece']} {result['texts_per_second']} texts/s [{result['model_version']}]",
    )


@train_group.command("sentiment")
@click.option(
    "--from-store",
    is_flag=True,
    help="Adapt the current model to the store's weak labels (review stars, NPS/CSAT).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where a full rebuild writes the model (default: the committed artifacts folder).",
)
@click.option("--epochs", type=click.IntRange(1, 10), default=2, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Torch threads for training (1 is faster on a machine other jobs share).",
)
@json_option
@handle_errors
def train_sentiment(
    from_store: bool, out: Path | None, epochs: int, threads: int | None, as_json: bool
) -> None:
    """Rebuild the committed sentiment model from the shared data (about 20 minutes on
    2 cores), or with --from-store adapt it to the customer's own labels."""
    st = state()
    if from_store:
        from nlp.sentiment.adapt import adapt_from_store

        result = adapt_from_store(st.engine(), st.settings)
        b, a = result["before"], result["after"]
        emit(
            result,
            as_json,
            f"held-out store texts: macro_f1 {b['macro_f1']} -> {a['macro_f1']}, accuracy "
            f"{b['accuracy']} -> {a['accuracy']}; saved {result['model_version']}"
            + (" (now current)" if result["activated"] else " (not activated: no better)"),
        )
        return
    from nlp.sentiment.build import build_model
    from nlp.sentiment.registry import ARTIFACTS_DIR, model_version

    target = out or ARTIFACTS_DIR
    meta = build_model(st.settings, target, epochs=epochs, log=lambda s: click.echo(s, err=True))
    metrics = meta["metrics"]
    result = {
        "model_version": model_version(target),
        "path": str(target),
        "temperature": meta["temperature"],
        "uci_accuracy": metrics["uci"]["accuracy"],
        "tweets_macro_f1": metrics["vader_tweets"]["macro_f1"],
        "metrics": metrics,
    }
    emit(
        result,
        as_json,
        f"built {result['model_version']}: UCI accuracy {result['uci_accuracy']}, tweets "
        f"macro-F1 {result['tweets_macro_f1']}",
    )


COMMANDS: list[click.Command] = [score]
