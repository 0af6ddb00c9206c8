"""tag_store fills aspect_scores once per text and version; the account roll-up reads it."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, func, insert, select

from ingest.db.schema import aspect_scores, documents, sentiment_scores
from ingest.settings import Settings
from nlp.aspects import MODEL_VERSION, NO_ASPECT, AspectTagger, account_aspect_sentiment, tag_store

TEXTS = [
    (
        "acme",
        "ticket",
        datetime(2025, 3, 3),
        "The app crashes when I export. Support is great though.",
    ),
    ("acme", "review", datetime(2025, 3, 20), "Far too expensive for what it does."),
    ("acme", "survey", datetime(2025, 4, 2), "Too expensive."),
    ("beta", "review", datetime(2025, 3, 5), "Lovely people, thanks."),
    ("beta", "ticket", datetime(2025, 3, 9), "Far too expensive for what it does."),  # same text
    ("beta", "attribution", datetime(2025, 3, 9), "A podcast, pricing episode"),  # not tagged
]


def _add_documents(engine: Engine, rows: list[tuple[str, str, datetime, str]]) -> None:
    with engine.begin() as conn:
        n = conn.execute(select(func.count()).select_from(documents)).scalar_one()
        for i, (account, kind, at, text) in enumerate(rows, start=n):
            h = hashlib.sha256(text.encode()).hexdigest()
            conn.execute(
                insert(documents).values(
                    kind=kind, source="test", source_id=f"d{i}", account_id=account,
                    created_at=at, text=text, text_hash=h,
                    content_hash=hashlib.sha256(f"{kind}{account}{at}{text}".encode()).hexdigest(),
                    text_chars=len(text), truncated=False, source_file="t.csv",
                    source_line=i + 2, row_hash=h,
                )
            )  # fmt: skip


def _add_sentiment(engine: Engine, text: str, value: float, version: str = "sent-test") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(sentiment_scores).values(
                text_hash=hashlib.sha256(text.encode()).hexdigest(), model_version=version,
                p_negative=max(0.0, -value), p_neutral=1 - abs(value), p_positive=max(0.0, value),
                sentiment=value, n_chunks=1, scored_at=datetime(2025, 5, 1),
            )
        )  # fmt: skip


class Scorer:
    def score_texts(self, texts: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {"sentiment": [0.9 if "great" in t else -0.9 if "crash" in t else 0.0 for t in texts]}
        )


@pytest.fixture
def rules_tagger() -> AspectTagger:
    return AspectTagger(use_embeddings=False)


def _run(engine: Engine, settings: Settings, tagger: AspectTagger) -> dict:
    return tag_store(engine, settings, tagger=tagger, score_sentences=Scorer().score_texts)


def _rows(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(aspect_scores)).mappings().all())


def test_tag_store_tags_each_text_once_and_a_rerun_tags_nothing(
    engine: Engine, settings: Settings, rules_tagger: AspectTagger
) -> None:
    _add_documents(engine, TEXTS)
    first = _run(engine, settings, rules_tagger)
    assert first["tagged"] == 4  # 5 customer texts, one duplicate; attribution skipped
    assert first["model_version"] == MODEL_VERSION
    rows = _rows(engine)
    assert len(rows) == first["rows"]
    assert set(rows["model_version"]) == {MODEL_VERSION}
    assert (rows["aspect"] == NO_ASPECT).sum() == 1  # "Lovely people, thanks."

    again = _run(engine, settings, rules_tagger)
    assert again["tagged"] == 0
    assert again["cached"] == 4
    assert len(_rows(engine)) == len(rows)

    _add_documents(engine, [("beta", "survey", datetime(2025, 4, 9), "So slow lately.")])
    third = _run(engine, settings, rules_tagger)
    assert third["tagged"] == 1
    assert third["aspects"] == {"performance": 1}


def test_sentences_decide_aspect_sentiment_and_missing_sentiment_is_filled_later(
    engine: Engine, settings: Settings, rules_tagger: AspectTagger
) -> None:
    _add_documents(engine, TEXTS)
    _run(engine, settings, rules_tagger)
    rows = _rows(engine).set_index(["aspect"])
    mixed = hashlib.sha256(TEXTS[0][3].encode()).hexdigest()
    mine = _rows(engine)
    mine = mine[mine["text_hash"] == mixed].set_index("aspect")
    assert mine.loc["reliability", "sentiment"] < 0 < mine.loc["support", "sentiment"]
    # single-sentence texts had no whole-text score yet: sentiment unknown
    assert rows.loc["pricing", "sentiment"].isna().all()

    _add_sentiment(engine, "Far too expensive for what it does.", -0.6)
    again = _run(engine, settings, rules_tagger)
    assert again["tagged"] == 0
    assert again["sentiment_filled"] == 1
    frame = _rows(engine)
    expensive = hashlib.sha256(b"Far too expensive for what it does.").hexdigest()
    assert frame.loc[frame["text_hash"] == expensive, "sentiment"].tolist() == [-0.6]


def test_account_aspect_sentiment_rolls_up_by_account_month_and_aspect(
    engine: Engine, settings: Settings, rules_tagger: AspectTagger
) -> None:
    _add_documents(engine, TEXTS)
    _add_sentiment(engine, "Far too expensive for what it does.", -0.6)
    _add_sentiment(engine, "Too expensive.", -0.1)
    _run(engine, settings, rules_tagger)
    frame = account_aspect_sentiment(engine)
    assert list(frame.columns) == [
        "account_id",
        "month",
        "aspect",
        "n",
        "sentiment",
        "negative_share",
    ]
    assert NO_ASPECT not in set(frame["aspect"])
    key = frame.set_index(["account_id", "month", "aspect"])
    march = key.loc[("acme", date(2025, 3, 1), "pricing")]
    assert march["n"] == 1 and march["sentiment"] == -0.6 and march["negative_share"] == 1.0
    assert key.loc[("acme", date(2025, 4, 1), "pricing"), "negative_share"] == 0.0
    assert key.loc[("beta", date(2025, 3, 1), "pricing"), "n"] == 1  # the duplicate text counts

    before = account_aspect_sentiment(engine, as_of=date(2025, 3, 31))
    assert date(2025, 4, 1) not in set(before["month"])
    assert len(before) < len(frame)
