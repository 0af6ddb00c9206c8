"""PII masking of customer texts before they are stored for scoring and serving.

E-mail addresses become ``[email]`` and phone numbers ``[phone]``. Phone numbers are
recognised by shape (international ``+`` numbers, North American ``(555) 123-4567`` /
``555-123-4567``, and trunk-prefixed national numbers such as ``020 7946 0958``) with 7
to 15 digits, so ISO dates, version numbers, prices and IP addresses stay untouched.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_PHONE = (
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,4}(?:[\s.\-]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|\(\d{3}\)[\s.\-]?\d{3}[\s.\-]\d{4}"  # (555) 123-4567
    r"|\d{3}[\s.\-]\d{3}[\s.\-]\d{4}"  # 555-123-4567
    r"|0\d{2,4}[\s\-]\d{3,4}[\s\-]?\d{3,4}"  # 020 7946 0958
    r")(?![\w])"
)
_PII = re.compile(f"(?P<email>{_EMAIL})|(?P<phone>{_PHONE})")
_HINT = re.compile(r"@|\d{3}")
_CANDIDATE = re.compile(r"[@0-9]")


def _replace(match: re.Match[str]) -> str:
    if match.group("email"):
        return EMAIL_MASK
    digits = sum(ch.isdigit() for ch in match.group(0))
    return PHONE_MASK if 7 <= digits <= 15 else match.group(0)


def mask_pii(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by placeholders."""
    if not text or _HINT.search(text) is None:
        return text
    return _PII.sub(_replace, text)


def mask_texts(texts: list[str]) -> list[str]:
    """``mask_pii`` over many texts. Substring checks of the joined texts skip a chunk
    without '@' or digits at C speed; otherwise one character-class scan jumps from
    candidate text to candidate text."""
    joined = "\x00".join(texts)
    if "@" not in joined and not any(d in joined for d in "0123456789"):
        return texts
    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    out = list(texts)
    pos = 0
    while (match := _CANDIDATE.search(joined, pos)) is not None:
        i = bisect_right(starts, match.start()) - 1
        out[i] = mask_pii(texts[i])
        pos = starts[i + 1]
    return out
