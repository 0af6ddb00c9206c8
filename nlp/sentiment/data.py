"""Labeled training and evaluation data for the sentiment model, and its deterministic split.

Sources (read-only, never copied into the repository):

- ``vader_icwsm2014/`` (MIT): tweets, Amazon, movie and NYT snippets with a mean human
  valence in [-4, 4]. Three classes with the neutral band ``|valence| < NEUTRAL_BAND``.
- ``uci_sentiment_labelled_sentences/`` (CC BY 4.0): Amazon, Yelp, IMDb sentences labeled
  0/1 (two classes; rows carry ``n_classes = 2`` so that training ignores their neutral
  logit and evaluation compares only negative against positive).
- ``service_seed.csv`` (written for this project, CC0): short customer-service texts
  (questions, requests, problem reports, thanks) so that the neutral class sees how
  service text asks for things.

Split: every row gets a *group* (the VADER review/article id before ``_``, so sentences of
one review never straddle the split; the text itself elsewhere) and
``bucket = int(sha256(source + group)[:8], 16) % 100``: test if ``bucket < 20``, validation
if ``20 <= bucket < 30``, train otherwise. No random state, so the split is the same on
every machine.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

LABELS = ("negative", "neutral", "positive")
NEUTRAL_BAND = 0.5
TEST_BUCKETS = 20
VALIDATION_BUCKETS = 10

VADER_FILES = {
    "vader_tweets": "tweets_GroundTruth.txt",
    "vader_amazon": "amazonReviewSnippets_GroundTruth.txt",
    "vader_movie": "movieReviewSnippets_GroundTruth.txt",
    "vader_nyt": "nytEditorialSnippets_GroundTruth.txt",
}
UCI_FILES = {
    "uci_amazon": "amazon_cells_labelled.txt",
    "uci_yelp": "yelp_labelled.txt",
    "uci_imdb": "imdb_labelled.txt",
}
SEED_FILE = Path(__file__).with_name("service_seed.csv")


def shared_data_dir() -> Path:
    """``../shared/data/sentiment`` next to the repository (where the team's data lives)."""
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sentiment"


def valence_to_label(valence: float, band: float = NEUTRAL_BAND) -> int:
    """VADER mean valence -> 0 negative, 1 neutral, 2 positive (``|v| < band`` is neutral)."""
    if abs(valence) < band:
        return 1
    return 2 if valence > 0 else 0


def _lines(path: Path) -> list[str]:
    # split on "\n" only: imdb_labelled.txt holds U+0085 inside sentences
    return [ln.rstrip("\r") for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]


def read_vader(path: Path, source: str, band: float = NEUTRAL_BAND) -> pd.DataFrame:
    rows = []
    for line in _lines(path):
        ident, score, text = line.split("\t", 2)
        valence = float(score)
        rows.append(
            {
                "source": source,
                "group": ident.split("_", 1)[0],
                "text": text.strip(),
                "label": valence_to_label(valence, band),
                "valence": valence,
                "n_classes": 3,
            }
        )
    return pd.DataFrame(rows)


def read_uci(path: Path, source: str) -> pd.DataFrame:
    rows = []
    for line in _lines(path):
        text, label = line.rsplit("\t", 1)
        rows.append(
            {
                "source": source,
                "group": text.strip(),
                "text": text.strip(),
                "label": 2 if label.strip() == "1" else 0,
                "valence": float("nan"),
                "n_classes": 2,
            }
        )
    return pd.DataFrame(rows)


def read_seed(path: Path = SEED_FILE) -> pd.DataFrame:
    with path.open(encoding="utf-8", newline="") as fh:
        recs = list(csv.DictReader(fh))
    return pd.DataFrame(
        [
            {
                "source": "service_seed",
                "group": r["text"],
                "text": r["text"],
                "label": LABELS.index(r["label"]),
                "valence": float("nan"),
                "n_classes": 3,
            }
            for r in recs
        ]
    )


def split_of(source: str, group: str) -> str:
    bucket = int(hashlib.sha256(f"{source}\x1f{group}".encode()).hexdigest()[:8], 16) % 100
    if bucket < TEST_BUCKETS:
        return "test"
    if bucket < TEST_BUCKETS + VALIDATION_BUCKETS:
        return "validation"
    return "train"


def load_corpus(data_dir: Path | None = None, band: float = NEUTRAL_BAND) -> pd.DataFrame:
    """Every labeled row with columns source, group, text, label, valence, n_classes, split."""
    root = Path(data_dir) if data_dir else shared_data_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"shared sentiment data not found at {root}")
    frames = [read_vader(root / "vader_icwsm2014" / f, s, band) for s, f in VADER_FILES.items()]
    frames += [
        read_uci(root / "uci_sentiment_labelled_sentences" / f, s) for s, f in UCI_FILES.items()
    ]
    if SEED_FILE.exists():
        frames.append(read_seed())
    df = pd.concat(frames, ignore_index=True)
    df = df[df["text"].str.len() > 0].reset_index(drop=True)
    df["split"] = [split_of(s, g) for s, g in zip(df["source"], df["group"], strict=True)]
    return df
