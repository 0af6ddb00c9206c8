"""PII masking of customer texts before they are stored for scoring and serving.

E-mail addresses become ``[email]`` and phone numbers ``[phone]``. Phone numbers are
recognised by shape (international ``+`` numbers, North American ``(555) 123-4567`` /
``555-123-4567``, and trunk-prefixed national numbers such as ``020 7946 0958``) with 7
to 15 digits, so ISO dates, version numbers, prices and IP addresses stay untouched.
"""

from __future__ import annotations

import re

import numpy as np

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

# Letters of any script (\w): "josé@acme.es" or "bob@münchen.de" are masked whole.
_EMAIL = r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}"
_PHONE = (
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,4}(?:[\s.\-]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|\(\d{3}\)[\s.\-]?\d{3}[\s.\-]\d{4}"  # (555) 123-4567
    r"|\d{3}[\s.\-]\d{3}[\s.\-]\d{4}"  # 555-123-4567
    r"|0\d{2,4}[\s\-]\d{3,4}[\s\-]?\d{3,4}"  # 020 7946 0958
    r")(?![\w])"
)
_PII = re.compile(f"(?P<email>{_EMAIL})|(?P<phone>{_PHONE})")
# Every e-mail has an '@' and every phone shape above starts with '+<digit>' or holds a
# run of three digits: a text without any of them needs no masking (the cheap precheck).
_HINT = re.compile(r"@|\+\d|\d{3}")
_PHONE_START = re.compile(r"[+(\d]")
_LOCAL_RUN = re.compile(r"[\w.%+\-]*")
_FOLD_DIGITS = str.maketrans("123456789", "000000000")


def _replace(match: re.Match[str]) -> str:
    if match.group("email"):
        return EMAIL_MASK
    digits = sum(ch.isdigit() for ch in match.group(0))
    return PHONE_MASK if 7 <= digits <= 15 else match.group(0)


def _first_start(text: str) -> int:
    """A position before which no match of ``_PII`` can start: the earliest phone start
    ('+', '(' or a digit) or the start of the run of local-part characters before the
    first '@'. The regex is slow per position (the e-mail branch tries every character
    of every word), and addresses and numbers sit mostly at a text's end."""
    if text.isascii():  # ASCII digits folded to '0' and found at memchr speed
        folded = text.translate(_FOLD_DIGITS)
        first = min((i for i in map(folded.find, "0+(") if i != -1), default=len(text))
    else:
        phone = _PHONE_START.search(text)
        first = phone.start() if phone else len(text)
    at = text.find("@")  # a run of local-part characters ends at an '@': the first
    while at != -1:  # non-empty one starts before any later one
        local = _LOCAL_RUN.match(text[at - 1 :: -1]) if at else None  # read backwards
        run = local.end() if local else 0
        if run:
            return min(first, at - run)
        at = text.find("@", at + 1)
    return first


def mask_pii(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by placeholders."""
    if not text or _HINT.search(text) is None:
        return text
    return _mask_hinted(text)


def _mask_hinted(text: str) -> str:
    """``mask_pii`` of a text the precheck has hit."""
    # no match starts before ``first`` (nor at first - 1, kept for the phone lookbehind)
    cut = max(0, _first_start(text) - 1)
    return text[:cut] + _PII.sub(_replace, text[cut:]) if cut else _PII.sub(_replace, text)


def _hint_texts(joined: str, starts: np.ndarray) -> np.ndarray:
    """Indices of the texts the precheck ``_HINT`` hits. For ASCII (most chunks) the
    digits are folded to '0' and '@', '+0' and '000' found with ``str.find`` at memchr
    speed; otherwise (\\d also matches other scripts' digits) ``_HINT`` scans."""
    found: list[int] = []
    if joined.isascii():
        probe = joined.translate(_FOLD_DIGITS)
        for needle in ("@", "+0", "000"):
            pos = probe.find(needle)
            while pos != -1:
                found.append(pos)
                pos = probe.find(needle, pos + 1)
    else:
        found = [m.start() for m in _HINT.finditer(joined)]
    return np.unique(np.searchsorted(starts, found, side="right") - 1)


def mask_texts(texts: list[str]) -> list[str]:
    """``mask_pii`` over many texts: the precheck runs once over the joined texts (NUL
    separated, so no hit spans two texts) and only the texts it hits are masked."""
    joined = "\x00".join(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)))[:-1]
    hits = _hint_texts(joined, starts)
    if not len(hits):
        return texts
    out = list(texts)
    for i in hits.tolist():
        out[i] = _mask_hinted(texts[i])
    return out
