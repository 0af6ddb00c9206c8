"""PII masking of customer texts before they are stored for scoring and serving.

- e-mail addresses -> ``[email]``;
- IBANs -> ``[iban]``: two letters, two check digits and 11 to 30 letters or digits, in
  groups of four or not, whose ISO 13616 mod-97 checksum holds (written here, offline);
- payment card numbers -> ``[card]``: 13 to 19 digits, in groups or not, that pass the
  Luhn check;
- US social security numbers -> ``[ssn]``: ``123-45-6789`` (or with spaces) outside the
  numbers never issued (area 000, 666 or 900-999, group 00, serial 0000);
- phone numbers -> ``[phone]``: by shape (international ``+`` numbers, North American
  ``(555) 123-4567`` / ``555-123-4567``, and trunk-prefixed national numbers such as
  ``020 7946 0958``) with 7 to 15 digits.

One regex finds them all, IBANs and cards before phones: the digits of an IBAN or a card
are never taken for a phone number (``IBAN DE89 3704 [phone] 00``). A candidate that fails
its checksum is left as it is (a card-shaped number that fails Luhn is still masked if it
has a phone's shape). ISO dates, version numbers, prices and IP addresses stay untouched.
Quarantined rows keep their original, unmasked content (the contract): they are for
admins only (no route serves them) and ``undertow quarantine purge`` deletes old ones.
"""

from __future__ import annotations

import re

import numpy as np

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
IBAN_MASK = "[iban]"
CARD_MASK = "[card]"
SSN_MASK = "[ssn]"

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
_IBAN = r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,3})?(?![\w])"
_CARD = r"(?<![\w+])\d(?:[ \-]?\d){12,18}(?![\w])"
_SSN = r"(?<![\w\-])\d{3}(?P<sep>[ \-])\d{2}(?P=sep)\d{4}(?![\w\-])"
_PII = re.compile(
    f"(?P<email>{_EMAIL})|(?P<iban>{_IBAN})|(?P<card>{_CARD})|(?P<ssn>{_SSN})|(?P<phone>{_PHONE})"
)
_PHONE_ONLY = re.compile(_PHONE)
# Every e-mail has an '@' and every phone shape above starts with '+<digit>' or holds a
# run of three digits: a text without any of them needs no masking (the cheap precheck).
_HINT = re.compile(r"@|\+\d|\d{3}")
_PHONE_START = re.compile(r"[+(\d]")
_LOCAL_RUN = re.compile(r"[\w.%+\-]*")
_FOLD_DIGITS = str.maketrans("123456789", "000000000")


def iban_valid(candidate: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as 10-35, the
    number mod 97 is 1."""
    text = candidate.replace(" ", "").upper()
    if not 15 <= len(text) <= 34 or not text.isascii() or not text.isalnum():
        return False
    moved = text[4:] + text[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def ssn_valid(text: str) -> bool:
    area, group, serial = re.split(r"[ \-]", text)
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _phone(text: str) -> str:
    digits = sum(ch.isdigit() for ch in text)
    return PHONE_MASK if 7 <= digits <= 15 else text


def _replace(match: re.Match[str]) -> str:
    kind, text = match.lastgroup, match.group(0)
    if kind == "email":
        return EMAIL_MASK
    if kind == "iban":
        return IBAN_MASK if iban_valid(text) else text
    if kind == "card":
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits.isascii() and luhn_valid(digits):
            return CARD_MASK
        return _PHONE_ONLY.sub(lambda m: _phone(m.group(0)), text)
    if kind == "ssn":
        return SSN_MASK if ssn_valid(text) else text
    return _phone(text)


def _first_start(text: str) -> int:
    """A position before which no match of ``_PII`` can start, bar the two letters of an
    IBAN's country code: the earliest phone, card or SSN start ('+', '(' or a digit) or
    the start of the run of local-part characters before the first '@'. The regex is slow per position (the e-mail branch tries every character
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
    # no match starts before ``first`` - 2 (an IBAN's country code), and one more
    # character is kept for the lookbehinds
    cut = max(0, _first_start(text) - 3)
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
