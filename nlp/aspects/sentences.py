"""Split a customer text into sentences, and group sentences into encoder-sized chunks.

Customer texts are messy (no final stop, "Pros: ... Cons: ...", bullet lines, "!!!"), so
the splitter is a small regex: break after ., ! or ? followed by a space and a capital,
digit or quote, at line breaks, and before "Cons:" style labels. Good enough to attribute
an aspect to the sentence that mentions it; no model needed.
"""

from __future__ import annotations

import re

_BREAK = re.compile(
    r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])"  # end of sentence, next one starts
    r"|\s*[\r\n]+\s*"  # line breaks
    r"|[;]\s+(?=(?i:but|however|although|though|unfortunately)\b)"  # "...; but ..."
    r"|\s+(?=(?i:Cons|Pros|Con|Pro|Dislikes?|Likes?):)",  # review sections
)

MAX_CHUNK_CHARS = 900  # ~ 200 word pieces: inside the encoder's 256-token window


def split_sentences(text: str) -> list[str]:
    """The non-empty sentences of ``text``, in order ([] for an empty text)."""
    if not text or not text.strip():
        return []
    out = [p.strip() for p in _BREAK.split(text) if p.strip()]
    return out or [text.strip()]


def chunk_sentences(sentences: list[str], max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Consecutive sentences joined into chunks of at most ``max_chars`` (a longer
    sentence is cut into pieces of that size), so a long ticket is read whole.
    ``max_chars=0``: one chunk per sentence (a sentence longer than ``MAX_CHUNK_CHARS``
    still cut into pieces that fit the encoder's window)."""
    if max_chars <= 0:
        return [p for s in sentences for p in _cut(s, MAX_CHUNK_CHARS)]
    chunks: list[str] = []
    current = ""
    for sentence in sentences:
        pieces = _cut(sentence, max_chars)
        for piece in pieces:
            if current and len(current) + 1 + len(piece) > max_chars:
                chunks.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip()
    if current:
        chunks.append(current)
    return chunks


def _cut(sentence: str, max_chars: int) -> list[str]:
    return [sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars)]
