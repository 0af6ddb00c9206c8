"""The combined tagger: decision rules with a stand-in encoder, and the real model."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.aspects import ASPECTS, AspectTagger, tag_texts
from nlp.aspects.evaluation import load_labeled, multilabel_scores, predicted_sets
from nlp.aspects.head import AspectHead

DIM = len(ASPECTS)


class KeywordEncoder:
    """A stand-in encoder: one dimension per aspect, lit by a secret word per aspect, so
    the head's probabilities are known exactly."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for aspect, word in self.words.items():
                if word in text.lower():
                    out[i, ASPECTS.index(aspect)] = 1.0
        return out


def _head() -> AspectHead:
    # p = sigmoid(8x - 4): 0.018 when the dimension is off, 0.982 when on
    return AspectHead(
        ASPECTS, 8.0 * np.eye(DIM, dtype=np.float32), np.full(DIM, -4.0, dtype=np.float32)
    )


def test_head_alone_tags_meaning_without_keywords() -> None:
    tagger = AspectTagger(_head(), KeywordEncoder({"reliability": "zorp"}))
    tags = tagger.tag(["the zorp happened again this morning"])
    row = tags[tags["aspect"] == "reliability"].iloc[0]
    assert row["method"] == "embedding"
    assert row["confidence"] > 0.9


def test_a_weak_rule_needs_the_head_to_agree() -> None:
    text = "Constant errors when we sync."  # 'sync' is a weak integrations rule
    without = AspectTagger(_head(), KeywordEncoder({})).tag([text])
    assert "integrations" not in set(without["aspect"])
    agreeing = AspectTagger(_head(), KeywordEncoder({"integrations": "sync"})).tag([text])
    row = agreeing[agreeing["aspect"] == "integrations"].iloc[0]
    assert row["method"] == "rules+embedding"


def test_a_decisive_rule_tags_even_when_the_head_disagrees() -> None:
    tags = AspectTagger(_head(), KeywordEncoder({})).tag(["Far too expensive for us."])
    assert list(tags["aspect"]) == ["pricing"]
    assert list(tags["method"]) == ["rules"]


def test_texts_are_encoded_in_one_batch_and_empty_texts_skipped() -> None:
    encoder = KeywordEncoder({"usability": "clunky"})
    tags = AspectTagger(_head(), encoder).tag(["", "clunky and slow", "fine"] * 20)
    assert encoder.calls == 1
    assert not (tags["idx"] % 3 == 0).any()


@pytest.mark.real_model
def test_real_model_reads_aspects_without_keywords() -> None:
    texts = [
        "The whole team was able to use it on day one without any instructions.",
        "",
        "Way too expensive, and the app crashes every day.",
    ]
    tags = tag_texts(texts)
    first = tags[tags["idx"] == 0]
    assert "onboarding" in set(first["aspect"])  # no keyword names it: the head does
    assert set(first["method"]) == {"embedding"}
    assert 1 not in set(tags["idx"])
    assert {"pricing", "reliability"} <= set(tags.loc[tags["idx"] == 2, "aspect"])


@pytest.mark.real_model
def test_real_model_is_at_least_as_good_as_rules_on_the_held_out_split() -> None:
    data = load_labeled(split="test")
    texts, truth = list(data["text"]), list(data["labels"])
    combined = multilabel_scores(truth, predicted_sets(tag_texts(texts), len(texts)))
    rules = AspectTagger(use_embeddings=False).tag(texts)
    alone = multilabel_scores(truth, predicted_sets(rules, len(texts)))
    assert combined["micro_f1"] >= alone["micro_f1"]
    assert combined["micro_f1"] >= 0.8


class CountingEncoder(KeywordEncoder):
    """KeywordEncoder that records every text it was asked to encode."""

    def __init__(self, words: dict[str, str]) -> None:
        super().__init__(words)
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts)


def test_sentences_repeated_across_texts_and_calls_are_encoded_once() -> None:
    encoder = CountingEncoder({"reliability": "zorp"})
    tagger = AspectTagger(_head(), encoder)
    texts = ["Hi team,\nThe zorp again.\nThanks,", "Hi team,\nAll fine here.\nThanks,"]
    first = tagger.tag(texts)
    assert sorted(encoder.seen) == sorted(set(encoder.seen))  # each distinct sentence once
    assert len(encoder.seen) == 4
    again = tagger.tag(texts[::-1])
    assert len(encoder.seen) == 4  # all cached: nothing encoded on the second call
    assert set(first["aspect"]) == set(again["aspect"]) == {"reliability"}
    assert set(again["idx"]) == {1}


def test_one_sentence_about_an_aspect_is_enough_in_a_long_text() -> None:
    encoder = CountingEncoder({"reliability": "zorp"})
    text = "Hello there. We had a nice call. The zorp hit us at noon. Kind regards."
    tags = AspectTagger(_head(), encoder).tag([text])
    assert list(tags["aspect"]) == ["reliability"]
    assert len(encoder.seen) == 4  # read sentence by sentence


def test_chunk_unit_reads_a_short_text_whole_as_aspects_v1_did() -> None:
    encoder = CountingEncoder({})
    text = "Hello there. We had a nice call. Kind regards."
    AspectTagger(_head(), encoder, unit="chunk").tag([text, text])
    assert encoder.seen == [text, text]  # whole text, every time, no cache
    with pytest.raises(ValueError):
        AspectTagger(unit="word")
