"""Row checks of canonical records, vectorized over a chunk (a DataFrame of strings).

``validate(frame, spec)`` returns the valid rows with typed columns and, for every
rejected row, the reasons (all of them, joined by '; '). Nothing is evaluated: a
spreadsheet formula such as ``=HYPERLINK(...)`` is a string like any other, which fails
a number or date check and is stored verbatim in a text.

Dates are ISO 8601, a date or a datetime; a datetime with ``Z`` or an offset becomes
naive UTC, one without is taken as UTC. Vendor mappings may name a strptime format.

A chunk is 100,000 rows, so the checks run per column, in C where they can: a column's
cells are joined once with NUL (which a cleaned cell never holds) to learn whether any
cell needs stripping, a line-end fix or an offset; pandas' aware-datetime parser (about
0.7 us a value) only sees columns that carry offsets other than ``Z``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ingest.kind_rules import kind_problems
from ingest.records import ISO_4217, MAX_ID_CHARS, SURVEY_RANGES, KindSpec
from ingest.series import object_series

# Width limits of the store's string columns (PostgreSQL enforces VARCHAR lengths).
_WIDTH = {
    "account_id": 128,
    "source": 64,
    "segment": 64,
    "tracked_source": 128,
    "stage": 128,
    "status": 128,
    "priority": 128,
    "domain": 255,
    "reviewer_domain": 255,
    "name": 512,
    "reviewer_company": 512,
}
PERSON = "_person"  # the e-mail address of a record's author, for deduplication only
_TRUE = {"true", "t", "yes", "y", "1", "won"}
_FALSE = {"false", "f", "no", "n", "0", "lost"}
_MONEY_NOISE = r"^[A-Z]{3}\s+|\s+[A-Z]{3}$|[$€£¥\s]|,(?=\d{3}(?:\D|$))"
_SEP = "\x00"
# "YYYY-MM-DD[T ]HH[:MM[:SS[.f]]]": a value of this shape plus a zone parses as this shape
# naive, shifted by the zone (pandas' parser is lenient in ways a cut zone could change:
# "2025 12" is December, "2025 12Z" nothing)
_PLAIN = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?")
# A zone after a time ("12:00+02:00", "12:00:00.5 -0330", "T12+02", and what pandas also
# takes: "+5", "+2:00"), or 'Z'/'z': a value ending in one is parsed aware
_TIME = r"(?:\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?|[Tt ]\d{2,6}(?:[.,]\d+)?)"
_AWARE = re.compile(rf"{_TIME}(\s*[+-][\d:]{{1,8}}\s*)$|([Zz]\s*)$")  # group: the zone
_OFFSET = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?")  # the zones converted here
# Whether a column needs the value-by-value parse: a zone after a time before a value's
# NUL, a lower-case 'z', or an upper-case 'Z' ending anything but a _PLAIN date and time
# with minutes. Spelt backwards and searched in the reversed cells, so that every try
# starts at a NUL (a fast scan) rather than at every digit (13x slower).
_NEEDS_AWARE_REVERSED = re.compile(
    r"\x00\s*[\d:]{1,8}[+-]\s*(?:(?:(?:\d+[.,])?\d{2}:)?\d{2}:\d|(?:\d+[.,])?\d{2,6}[Tt ])"
    r"|\x00\s*z|\x00\s+Z|\x00Z(?!(?:\d+\.)?(?:\d\d:)?\d\d:\d\d[T ]\d\d-\d\d-\d{4}\x00)"
)
_UTC_OFFSETS = tuple(f"{sign}00{tail}{_SEP}" for tail in (":00", "00", "") for sign in "+-")
# column types whose filled cells are parsed (so an empty cell is no error)
_VALUE_TYPES = {"datetime", "date", "float", "bool"}
_SEP_SPACE = re.compile(r"\x00\s")


@dataclass
class Validated:
    """Valid rows (typed, a fresh RangeIndex), where they were in the chunk, and the
    reasons of the rejected ones (by position in the chunk)."""

    frame: pd.DataFrame
    rejected: dict[int, str] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)


def _parse_aware(values: list[str]) -> np.ndarray:
    """Value by value: values ending in a zone ('Z', '+02:00' after a time) in groups of
    one zone each, parsed aware and converted to UTC; the rest naive (taken as UTC).
    A group never mixes zones or holds naive values: in one array pandas carries a
    value's offset over to the naive values after it ('12:00+02:00', '12:00' -> both
    10:00 UTC)."""
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    groups: dict[str, list[int]] = {}
    search = _AWARE.search
    for i, v in enumerate(values):
        m = search(v, len(v) - 32 if len(v) > 32 else 0)  # a zone is at the tail
        groups.setdefault(m.group(1) or m.group(2) if m else "", []).append(i)
    for zone, where in groups.items():
        part = [values[i] for i in where]
        if zone in {"Z", "z"}:  # in the exact path: as pandas reads them
            out[where] = _utc(part)
            continue
        if not zone:
            naive = _naive(part)
            out[where] = naive if naive is not None else _one_by_one(part)
            continue
        minutes = _offset_minutes(zone)
        if minutes is None:  # a zone of another shape ("+5"): as pandas reads each alone
            out[where] = _one_by_one(part)
            continue
        if minutes == _REFUSED:  # an offset pandas refuses: NaT
            continue
        # "YYYY-MM-DD[T ]HH[:MM[:SS[.f]]]" + zone: the naive parse shifted by the offset
        # (pandas' aware parse is 4-40x slower); other shapes as pandas reads them alone
        cut = [v[: len(v) - len(zone)] for v in part]
        plain = np.fromiter((_PLAIN.fullmatch(v) is not None for v in cut), bool, len(cut))
        idx = np.asarray(where)
        naive = _naive([c for c, p in zip(cut, plain, strict=True) if p]) if plain.any() else None
        if naive is None:
            plain[:] = False
        else:
            out[idx[plain]] = naive - np.timedelta64(minutes, "m")
        if not plain.all():
            out[idx[~plain]] = _one_by_one([v for v, p in zip(part, plain, strict=True) if not p])
    return out


def _one_by_one(values: list[str]) -> np.ndarray:
    """Each value alone through pandas' UTC parse (the definition; slow)."""
    return np.concatenate([_utc([v]) for v in values])


_REFUSED = -(1 << 20)  # the minutes of a zone pandas refuses


def _offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC of a zone '+HH', '+HHMM' or '+HH:MM' (spaces before it
    allowed); ``_REFUSED`` for an hour over 23 or a minute over 59, which pandas
    refuses; None for another shape."""
    m = _OFFSET.fullmatch(zone.strip())
    if m is None:
        return None
    hours, mins = int(m.group(2)), int(m.group(3) or 0)
    if hours > 23 or mins > 59:
        return _REFUSED
    return (-1 if m.group(1) == "-" else 1) * (hours * 60 + mins)


def _naive(values: list[str]) -> np.ndarray | None:
    """ISO 8601 values without zones -> datetime64[ns] (NaT where unparseable); None
    when pandas found a zone after all (then each value is parsed alone). The zone
    searches above see every shape pandas takes, so pandas never warns of mixed zones
    here (a warnings filter would not do: it is global, and ingests run in threads)."""
    try:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):
        return None
    if parsed.dtype != np.dtype("datetime64[ns]"):  # aware, or mixed (object)
        return None
    return np.asarray(parsed, dtype="datetime64[ns]")


def _utc(values: list[str]) -> np.ndarray:
    """ISO 8601 values, aware or naive (= UTC), as naive UTC datetime64[ns]."""
    parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    return np.asarray(parsed.tz_convert(None), dtype="datetime64[ns]")


def _parse_iso(values: list[str]) -> np.ndarray:
    """ISO 8601 strings -> naive UTC datetime64[ns] (NaT where unparseable or empty), as
    pandas' ISO 8601 parser in UTC mode parses each value alone.

    The usual column (every value naive or with a 'Z' or '+00:00' after its time, say a
    few bad ones) is one naive parse after those marks are cut in one replace over the
    joined cells: they mean UTC and a naive value is taken as UTC, so both parse alike.
    A column with other offsets (or odd 'Z's) is parsed value by value as aware or naive.
    """
    if not values:
        return np.empty(0, dtype="datetime64[ns]")
    text = _SEP + _SEP.join(values) + _SEP
    for utc in _UTC_OFFSETS:  # "+00:00" after a time says what 'Z' says
        if utc in text:
            text = text.replace(utc, "Z" + _SEP)
    if _NEEDS_AWARE_REVERSED.search(text[::-1]) is None:
        cut = text.replace("Z" + _SEP, _SEP)[1:-1].split(_SEP) if "Z" + _SEP in text else values
        naive = _naive(cut)
        if naive is not None:
            return naive
    return _parse_aware(values)


def parse_datetimes(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """ISO 8601 strings -> naive UTC datetime64 (NaT where unparseable or empty)."""
    return pd.Series(_parse_column(values.tolist(), fmt), index=values.index)


def _parse_column(values: list[str], fmt: str | None) -> np.ndarray:
    if not fmt:
        return _parse_iso(values)
    # a vendor's own format first; ISO 8601 for what it does not parse
    series = object_series(values)
    filled = (series != "").to_numpy()
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed = pd.to_datetime(series[filled], format=fmt, errors="coerce")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_convert(None)
    out[filled] = parsed.to_numpy(dtype="datetime64[ns]")
    rest = filled & np.isnat(out)
    if rest.any():
        out[rest] = _parse_iso(series[rest].tolist())
    return out


def email_domain(value: str) -> str:
    """The lower-cased domain of an e-mail address ('' if it is none)."""
    _, at, domain = value.strip().rpartition("@")
    domain = domain.strip().strip(".").lower()
    return domain if at and "." in domain and " " not in domain else ""


def email_domains(lowered: list[str]) -> list[str]:
    """``email_domain`` of many lower-cased values, in one pass."""
    parts = (v.rpartition("@")[2].strip().strip(".") if "@" in v else "" for v in lowered)
    return [d if "." in d and " " not in d else "" for d in parts]


def normalize_domain(value: str) -> str:
    """'https://www.Acme.com/pricing' -> 'acme.com'; an e-mail gives its domain."""
    value = value.strip().lower()
    if not value:
        return ""
    if "@" in value and "/" not in value:
        return email_domain(value)
    try:
        host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    except ValueError:
        return ""
    host = host.strip(".")
    return host[4:] if host.startswith("www.") else host


def _clean_column(values: list[Any], is_text: bool) -> list[str]:
    """Cells as strings: NULs dropped, texts with LF line ends, other cells stripped.
    One join per column decides whether the per-cell passes are needed at all."""
    if not values:
        return values
    joined = _SEP.join(values)
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (JSON escapes) cannot be stored
        values = [v.encode("utf-8", "replace").decode("utf-8") for v in values]
        joined = _SEP.join(values)
    if joined.count(_SEP) != len(values) - 1:  # NULs in the cells
        values = [v.replace("\x00", "") for v in values]
        joined = _SEP.join(values)
    if is_text:
        return [v.replace("\r\n", "\n") for v in values] if "\r" in joined else values
    return list(map(str.strip, values)) if _needs_strip(joined) else values


def _needs_strip(joined: str) -> bool:
    """Whether a cell of NUL-joined ``joined`` starts or ends with whitespace. Searched
    as NUL + space, forwards and in the reversed text: every try starts at a NUL (10x
    faster than one pattern trying every character)."""
    if not joined:
        return False
    if joined[0].isspace() or joined[-1].isspace():
        return True
    return _SEP_SPACE.search(joined) is not None or _SEP_SPACE.search(joined[::-1]) is not None


def _filled(values: list[str], is_text: bool) -> np.ndarray:
    if is_text:
        return np.fromiter(map(bool, map(str.strip, values)), bool, len(values))
    return np.fromiter(map(bool, values), bool, len(values))


def _mask(mask: Any) -> np.ndarray:
    """A problem mask as a numpy bool array (missing = no problem)."""
    if isinstance(mask, pd.Series):
        mask = mask.fillna(False)
    return np.asarray(mask, dtype=bool)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def validate(
    frame: pd.DataFrame,
    spec: KindSpec,
    date_formats: dict[str, str] | None = None,
    not_after: datetime | None = None,
) -> Validated:
    """Check every row of ``frame`` (canonical string columns) against ``spec``.

    ``not_after``: the latest instant (naive UTC) an event date of ``spec.past_only``
    may hold (the ingest time plus the tolerance); None = no such check."""
    date_formats = date_formats or {}
    n = len(frame)
    index = pd.RangeIndex(n)
    cells = {
        col: _clean_column(frame[col].tolist(), ctype == "text")
        for col, ctype in spec.columns.items()
    }
    typed: dict[str, Any] = {}
    problems: list[tuple[np.ndarray, str]] = []
    # problems whose reason names the row's value: (mask, message, the column's cells)
    valued: list[tuple[np.ndarray, str, list[str]]] = []

    filled_by_col = {  # which cells hold a value, where that is checked
        c: _filled(cells[c], t == "text")
        for c, t in spec.columns.items()
        if c in spec.required or t in _VALUE_TYPES
    }
    for col in spec.required:
        problems.append((~filled_by_col[col], f"missing required '{col}'"))

    for col, ctype in spec.columns.items():
        values = cells[col]
        if ctype in _VALUE_TYPES:
            filled = filled_by_col[col]
        if ctype in {"datetime", "date"}:
            parsed = _parse_column(values, date_formats.get(col))
            problems.append((filled & np.isnat(parsed), f"'{col}' is not an ISO 8601 date"))
            if ctype == "date":
                parsed = parsed.astype("datetime64[D]").astype("datetime64[ns]")
            if not_after is not None and col in spec.past_only:
                late = filled & (parsed > np.datetime64(not_after, "ns"))  # NaT compares False
                if late.any():
                    when = f"{not_after:%Y-%m-%d %H:%M} UTC"
                    valued.append(
                        (late, f"'{col}' is a future date (after {when}, the ingest time "
                         "plus the tolerance)", values)
                    )  # fmt: skip
            typed[col] = pd.Series(parsed, index=index)
        elif ctype == "float":
            s = object_series(values, index)
            num = pd.to_numeric(s, errors="coerce").astype(float)  # '' -> NaN
            retry = filled & num.isna().to_numpy()
            if retry.any():  # "USD 48,000.00", "$1,200": currency marks, thousands commas
                cleaned = s[retry].str.replace(_MONEY_NOISE, "", regex=True)
                num[retry] = pd.to_numeric(cleaned, errors="coerce").astype(float)
            bad = filled & ~np.isfinite(num.to_numpy())
            problems.append((bad, f"'{col}' is not a number"))
            if col in spec.ranges:
                lo, hi = spec.ranges[col]
                out = filled & ~bad & ((num < lo) | (num > hi)).to_numpy()
                span = f">= {lo:g}" if hi == float("inf") else f"between {lo:g} and {hi:g}"
                if out.any():
                    valued.append((out, f"'{col}' must be {span}", values))
            typed[col] = num
        elif ctype == "bool":
            low = object_series(values, index).str.lower()
            problems.append(
                (filled & ~low.isin(_TRUE | _FALSE).to_numpy(), f"'{col}' is not true/false")
            )
            typed[col] = low.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
        elif ctype == "email":
            lowered = list(map(str.lower, values))
            typed[col] = object_series(email_domains(lowered), index)
            typed[PERSON] = object_series(lowered, index)  # content key only
        elif ctype == "domain":
            typed[col] = object_series(list(map(normalize_domain, values)), index)
        else:
            longest = max(map(len, values), default=0)  # masks only where one is too long
            if ctype == "id" and longest > MAX_ID_CHARS:
                lengths = np.fromiter(map(len, values), np.int64, n)
                problems.append(
                    (lengths > MAX_ID_CHARS, f"'{col}' longer than {MAX_ID_CHARS} characters")
                )
            if col in _WIDTH and longest > _WIDTH[col]:
                width = _WIDTH[col]
                lengths = np.fromiter(map(len, values), np.int64, n)
                problems.append((lengths > width, f"'{col}' longer than {width} characters"))
            typed[col] = object_series(values, index)

    if spec.kind == "accounts":
        cur = typed["currency"].str.upper().where(typed["currency"] != "", "USD")
        problems.append((_mask(~cur.isin(ISO_4217)), "'currency' is not an ISO 4217 code"))
        typed["currency"] = cur
    if spec.kind == "surveys":
        stype = typed["survey_type"].str.lower().where(typed["survey_type"] != "", "nps")
        problems.append((_mask(~stype.isin(SURVEY_RANGES)), "'survey_type' must be nps or csat"))
        score = typed["score"]
        for name, (lo, hi) in SURVEY_RANGES.items():
            wrong = (stype == name) & score.notna() & ((score < lo) | (score > hi))
            problems.append(
                (_mask(wrong), f"'score' of a {name} survey must be between {lo:g} and {hi:g}")
            )
        problems.append(
            (
                _mask((stype == "nps") & score.notna() & (score % 1 != 0)),
                "'score' of an nps survey must be whole",
            )
        )
        typed["survey_type"] = stype
    if spec.kind == "opportunities":
        order = typed["closed_at"].notna() & (typed["closed_at"] < typed["created_at"])
        problems.append((_mask(order), "'closed_at' is before 'created_at'"))
    problems += kind_problems(spec, typed)  # spend, leads, experiments (ingest.kind_rules)

    bad_any = np.zeros(n, dtype=bool)
    for mask, _ in problems:
        bad_any |= mask
    for mask, _, _ in valued:
        bad_any |= mask
    rejected: dict[int, str] = {}
    for pos in np.flatnonzero(bad_any).tolist():
        reasons = [msg for mask, msg in problems if mask[pos]]
        reasons += [f"{msg}, got {_shown(cells[pos])}" for mask, msg, cells in valued if mask[pos]]
        rejected[pos] = "; ".join(dict.fromkeys(reasons))
    keep = ~bad_any
    columns = {name: np.asarray(col)[keep] for name, col in typed.items()}
    good = pd.DataFrame(columns, copy=False)
    return Validated(good, rejected, np.flatnonzero(keep).tolist())
