"""Per-aspect sentiment: each aspect gets the sentiment of the sentences naming it."""

from __future__ import annotations

import pandas as pd

from nlp.aspects import AspectTagger
from nlp.aspects.attribution import aspect_sentences, aspect_sentiments


class FakeScorer:
    """+0.8 for a sentence with a praise word, -0.8 with a complaint word, else 0."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def score_texts(self, texts: list[str]) -> pd.DataFrame:
        self.seen.extend(texts)
        values = []
        for t in texts:
            low = t.lower()
            values.append(0.8 if "great" in low else -0.8 if "crash" in low else 0.0)
        return pd.DataFrame({"sentiment": values})


def _by_aspect(texts: list[str], whole: list[float | None], scorer: FakeScorer | None):
    tags = AspectTagger(use_embeddings=False).tag(texts)
    values = aspect_sentiments(texts, tags, whole, scorer.score_texts if scorer else None)
    return {(int(i), a): v for i, a, v in zip(tags["idx"], tags["aspect"], values, strict=True)}


def test_each_aspect_gets_its_own_sentences_sentiment() -> None:
    text = "The support team is great. Sadly the app keeps crashing every day."
    got = _by_aspect([text], [0.0], FakeScorer())
    assert got[(0, "support")] > 0.5
    assert got[(0, "reliability")] < -0.5


def test_single_sentence_texts_take_the_whole_texts_sentiment_without_scoring() -> None:
    scorer = FakeScorer()
    got = _by_aspect(["Support is great and the price is fair"], [0.37], scorer)
    assert got[(0, "support")] == 0.37
    assert got[(0, "pricing")] == 0.37
    assert scorer.seen == []


def test_without_a_scorer_aspects_fall_back_to_the_whole_text_or_none() -> None:
    texts = ["Support is great. The app crashes.", "Too expensive. Really."]
    got = _by_aspect(texts, [0.1, None], None)
    assert got[(0, "support")] == 0.1
    assert got[(0, "reliability")] == 0.1
    assert got[(1, "pricing")] is None


def test_each_distinct_sentence_is_scored_once() -> None:
    scorer = FakeScorer()
    text = "Support is great. The app crashes."
    _by_aspect([text, text], [0.0, 0.0], scorer)
    assert sorted(scorer.seen) == sorted(set(scorer.seen))


def test_aspect_sentences_ignore_sentences_about_other_things() -> None:
    found = aspect_sentences("Pricing is fine. The app crashes. We like the colors.", ["pricing"])
    assert found == {"pricing": ["Pricing is fine."]}


def test_a_shared_cache_scores_each_sentence_once_across_pages() -> None:
    scorer = FakeScorer()
    cache: dict[str, float] = {}
    texts = ["Support is great. The app crashes.", "The app crashes. Pricing is fine."]
    tagger = AspectTagger(use_embeddings=False)
    values = []
    for text in texts:  # two pages of one text each
        tags = tagger.tag([text])
        values.append(aspect_sentiments([text], tags, [0.0], scorer.score_texts, cache))
    assert scorer.seen.count("The app crashes.") == 1
    assert cache["The app crashes."] == -0.8
    assert -0.8 in values[1]
