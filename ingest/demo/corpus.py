"""Read a labeled sentiment corpus (``undertow demo --corpus CSV``) into per-class pools.

The file needs a text column (``text``) and a label column (``label`` or ``sentiment``).
Accepted label schemes: negative/neutral/positive (also neg/neu/pos), 0/1 (negative,
positive), -1/0/1, and 0/1/2 (negative, neutral, positive). Two-class corpora work:
the world then has no neutral texts. Anything else is an ``InputError`` that says what to fix.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.errors import InputError

TEXT_COLUMNS = ("text",)
LABEL_COLUMNS = ("label", "sentiment")
_WORDS = {
    "negative": "neg", "neg": "neg", "neutral": "neu", "neu": "neu",
    "positive": "pos", "pos": "pos",
}  # fmt: skip
MAX_ROWS = 2_000_000


def _find(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    return next((lower[w] for w in wanted if w in lower), None)


def _classes(labels: pd.Series, path: Path) -> pd.Series:
    text = labels.astype(str).str.strip().str.lower()
    if text.isin(list(_WORDS)).all():
        return text.map(_WORDS)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all():
        values = set(numbers.astype(float).unique())
        if values <= {0.0, 1.0}:
            return numbers.map({0.0: "neg", 1.0: "pos"})
        if values <= {-1.0, 0.0, 1.0}:
            return numbers.map({-1.0: "neg", 0.0: "neu", 1.0: "pos"})
        if values <= {0.0, 1.0, 2.0}:
            return numbers.map({0.0: "neg", 1.0: "neu", 2.0: "pos"})
    bad = sorted(set(text[~text.isin(list(_WORDS))].head(5)))
    raise InputError(
        f"{path}: labels must be negative/neutral/positive, 0/1, -1/0/1 or 0/1/2; found {bad}"
    )


def load_corpus(path: str | Path) -> dict[str, list[str]]:
    """Pools of texts keyed 'neg', 'neu', 'pos' (neutral may be empty)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--corpus {path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"--corpus {path}: not a readable CSV ({exc})") from exc
    columns = [str(c) for c in frame.columns]
    text_col = _find(columns, TEXT_COLUMNS)
    label_col = _find(columns, LABEL_COLUMNS)
    if text_col is None or label_col is None:
        missing = "text" if text_col is None else "label (or sentiment)"
        raise InputError(
            f"--corpus {path}: needs a '{missing}' column (columns found: {columns[:10]})"
        )
    frame = frame[[text_col, label_col]].rename(columns={text_col: "text", label_col: "label"})
    frame["text"] = frame["text"].str.strip()
    frame = frame[(frame["text"] != "") & (frame["label"].str.strip() != "")]
    if frame.empty:
        raise InputError(f"--corpus {path}: no labeled rows")
    frame["cls"] = _classes(frame["label"], path).to_numpy()
    pools = {c: frame.loc[frame["cls"] == c, "text"].tolist() for c in ("neg", "neu", "pos")}
    if not pools["neg"] or not pools["pos"]:
        raise InputError(f"--corpus {path}: needs both negative and positive examples")
    return pools
