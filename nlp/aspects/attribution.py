"""Per-aspect sentiment: the sentiment of the sentences that mention each aspect.

"Support is great but the app keeps crashing" is positive about support and negative
about reliability; the text's overall score says neither. For each tagged aspect of a
text, the sentences whose rules name that aspect are scored (one batch for all texts,
each distinct sentence once) and their sentiments averaged. When no sentence names the
aspect (the embedding head found it in the text as a whole), when the text is a single
sentence, or when no sentence scorer is at hand, the aspect takes the whole text's
sentiment (from ``sentiment_scores``), or None when that is unknown too.

Sentences repeat across texts (support templates, sign-offs): which aspects a sentence's
rules name is memoised, and each distinct sentence of a call is scored once. A ``cache``
can carry scores across calls; ``tag_store`` does not pass one (a sentence is scored with
each page: the int8 score of a sentence depends on its batch, and a page's result must
not depend on the pages a worker happened to see before).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from functools import lru_cache

import pandas as pd

from nlp.aspects.rules import rule_hits
from nlp.aspects.sentences import split_sentences

# scorer.score_texts: list[str] -> DataFrame with a `sentiment` column in [-1, 1]
ScoreTexts = Callable[[list[str]], pd.DataFrame]


def aspect_sentences(text: str, aspects: Sequence[str]) -> dict[str, list[str]]:
    """Aspect -> the sentences of ``text`` whose rules name it ({} for a one-sentence
    text: the whole text is the evidence then)."""
    sentences = split_sentences(text)
    if len(sentences) <= 1:
        return {}
    wanted = set(aspects)
    found: dict[str, list[str]] = {}
    for sentence in sentences:
        for aspect in _named_aspects(sentence) & wanted:
            found.setdefault(aspect, []).append(sentence)
    return found


@lru_cache(maxsize=65_536)
def _named_aspects(sentence: str) -> frozenset[str]:
    return frozenset(rule_hits(sentence))


def aspect_sentiments(
    texts: Sequence[str],
    tags: pd.DataFrame,
    text_sentiment: Sequence[float | None],
    score_texts: ScoreTexts | None = None,
    cache: MutableMapping[str, float] | None = None,
) -> list[float | None]:
    """One sentiment per row of ``tags`` (DataFrame[idx, aspect, ...] over ``texts``).
    ``cache``: sentence -> sentiment already scored (read and filled)."""
    if tags.empty:
        return []
    evidence: dict[tuple[int, str], list[str]] = {}
    if score_texts is not None:
        by_text: dict[int, list[str]] = {}
        for idx, aspect in zip(tags["idx"], tags["aspect"], strict=True):
            by_text.setdefault(int(idx), []).append(str(aspect))
        for idx, aspects in by_text.items():
            for aspect, sentences in aspect_sentences(texts[idx], aspects).items():
                evidence[(idx, aspect)] = sentences
    scored: MutableMapping[str, float] = cache if cache is not None else {}
    if evidence and score_texts is not None:
        wanted = {s for sentences in evidence.values() for s in sentences}
        distinct = sorted(wanted - scored.keys())
        if distinct:
            frame = score_texts(distinct)
            scored.update((s, float(v)) for s, v in zip(distinct, frame["sentiment"], strict=True))
    out: list[float | None] = []
    for idx, aspect in zip(tags["idx"], tags["aspect"], strict=True):
        found = evidence.get((int(idx), str(aspect)))
        if found:
            out.append(round(sum(scored[s] for s in found) / len(found), 4))
        else:
            whole = text_sentiment[int(idx)]
            out.append(None if whole is None else round(float(whole), 4))
    return out
