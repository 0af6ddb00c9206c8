"""Turn a text's valence into words: from the phrase bank, or from a labeled corpus.

A *valence* is a real number (roughly -3..3) that the world's dynamics give each text;
it sets the tone: below ``STRONG_NEG`` very negative, below ``NEG`` negative, above ``POS``
positive, above ``STRONG_POS`` very positive, neutral in between. Two sources implement
the same three methods (``ticket``, ``review``, ``comment``):

* ``PhraseBankTexts`` composes sentences from ``phrasebank`` (aspect-aware);
* ``CorpusTexts`` draws real texts of the class the valence implies from a labeled corpus
  (``corpus.load_corpus``); with a two-class corpus the neutral band splits at zero.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ingest.demo import phrasebank as pb

STRONG_NEG, NEG, POS, STRONG_POS = -1.3, -0.4, 0.4, 1.3


def tone_of(valence: float) -> str:
    """The three-class tone of a valence: 'neg', 'neu' or 'pos'."""
    return "neg" if valence < NEG else "pos" if valence > POS else "neu"


class TextSource(Protocol):
    def ticket(self, rng: np.random.Generator, valence: float, aspect: str) -> tuple[str, str]:
        """(subject, body) of a support ticket."""
        ...

    def review(self, rng: np.random.Generator, valence: float, aspect: str) -> tuple[str, str]:
        """(title, body) of a public review."""
        ...

    def comment(self, rng: np.random.Generator, valence: float, aspect: str) -> str:
        """A survey comment."""
        ...


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return str(options[int(rng.integers(0, len(options)))])


class _Slots(dict):
    """Fills ``{slot}`` placeholders with a random filler, the same within one text."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = _pick(self.rng, pb.FILLERS[key])
        self[key] = value
        return value


def _fill(template: str, slots: _Slots) -> str:
    text = template.format_map(slots)
    return text[:1].upper() + text[1:] if text else text


class PhraseBankTexts:
    """Texts composed from the project's own phrase bank."""

    def _core(self, rng: np.random.Generator, tone: str, aspect: str, slots: _Slots) -> list[str]:
        lines = list(pb.LINES[aspect][tone])
        picks = rng.choice(len(lines), size=min(len(lines), 1 + int(rng.random() < 0.45)),
                           replace=False)  # fmt: skip
        out = [_fill(lines[int(i)], slots) for i in picks]
        if rng.random() < 0.25:  # a second aspect in the same tone
            other = pb.ASPECTS[int(rng.integers(0, len(pb.ASPECTS)))]
            out.append(_fill(_pick(rng, pb.LINES[other][tone]), slots))
        return out

    def _intensity(self, rng: np.random.Generator, valence: float, slots: _Slots) -> list[str]:
        if valence < STRONG_NEG:
            k = 1 + int(valence < STRONG_NEG - 0.8)
            return [_fill(s, slots) for s in rng.choice(pb.ESCALATION, size=k, replace=False)]
        if valence < NEG and rng.random() < 0.4:
            return [_pick(rng, pb.MILD_NEG)]
        if valence > STRONG_POS:
            return [_fill(_pick(rng, pb.DELIGHT), slots)]
        return []

    def ticket(self, rng: np.random.Generator, valence: float, aspect: str) -> tuple[str, str]:
        tone = tone_of(valence)
        slots = _Slots(rng)
        subject = _fill(_pick(rng, pb.SUBJECTS[aspect][tone]), slots)
        body = self._core(rng, tone, aspect, slots) + self._intensity(rng, valence, slots)
        greeting = _pick(rng, pb.GREETINGS)
        signoff = _pick(rng, pb.SIGNOFFS_NEG if tone == "neg" else pb.SIGNOFFS)
        sep = "\n\n" if rng.random() < 0.5 else "\n"
        parts = ([greeting] if greeting else []) + [" ".join(body)] + ([signoff] if signoff else [])
        return subject, sep.join(parts)

    def review(self, rng: np.random.Generator, valence: float, aspect: str) -> tuple[str, str]:
        tone = tone_of(valence)
        slots = _Slots(rng)
        title = _pick(rng, pb.REVIEW_TITLES[tone])
        opener = _fill(_pick(rng, pb.REVIEW_OPENERS[tone]), slots)
        lines = self._core(rng, tone, aspect, slots)
        if tone == "neu":
            lines = [_pick(rng, pb.NEUTRAL_REVIEW_LINES)] + lines[:1]
        body = [opener] + lines + self._intensity(rng, valence, slots)
        return title, " ".join(body)

    def comment(self, rng: np.random.Generator, valence: float, aspect: str) -> str:
        tone = tone_of(valence)
        slots = _Slots(rng)
        if rng.random() < 0.55:
            text = _pick(rng, pb.NPS_COMMENTS[tone])
        else:
            text = _fill(_pick(rng, pb.LINES[aspect][tone]), slots)
        extra = self._intensity(rng, valence, slots)
        return " ".join([text] + extra[:1])


CORPUS_SUBJECTS = ("Question about our account", "Issue report", "Follow-up", "Feedback",
                   "Request", "Re: your last reply", "Help needed", "Our experience")  # fmt: skip


class CorpusTexts:
    """Texts drawn from a labeled corpus by the class the valence implies."""

    def __init__(self, pools: dict[str, list[str]]) -> None:
        self.pools = {k: v for k, v in pools.items() if v}
        self.two_class = "neu" not in self.pools

    def _draw(self, rng: np.random.Generator, valence: float) -> str:
        tone = tone_of(valence)
        if tone not in self.pools:  # two classes: the neutral band splits at zero
            tone = "neg" if valence < 0 else "pos"
        return _pick(rng, self.pools[tone])

    def ticket(self, rng: np.random.Generator, valence: float, aspect: str) -> tuple[str, str]:
        return _pick(rng, CORPUS_SUBJECTS), self._draw(rng, valence)

    def review(self, rng: np.random.Generator, valence: float, aspect: str) -> tuple[str, str]:
        return "", self._draw(rng, valence)

    def comment(self, rng: np.random.Generator, valence: float, aspect: str) -> str:
        return self._draw(rng, valence)
