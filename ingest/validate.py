"""Row checks of canonical records, vectorized over a chunk (a DataFrame of strings).

``validate(frame, spec)`` returns the valid rows with typed columns and, for every
rejected row, the reasons (all of them, joined by '; '). Nothing is evaluated: a
spreadsheet formula such as ``=HYPERLINK(...)`` is a string like any other, which fails
a number or date check and is stored verbatim in a text.

Dates are ISO 8601, a date or a datetime; a datetime with ``Z`` or an offset becomes
naive UTC, one without is taken as UTC. Vendor mappings may name a strptime format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ingest.records import ISO_4217, MAX_ID_CHARS, SURVEY_RANGES, KindSpec

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
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*[+-]\d{2}(?::?\d{2})?$")


@dataclass
class Validated:
    """Valid rows (typed, original index kept) and the reasons of the rejected ones."""

    frame: pd.DataFrame
    rejected: dict[int, str] = field(default_factory=dict)


def _offsets(values: pd.Series) -> pd.Series:
    """Which values carry a UTC offset ('Z' or +hh:mm after a time): only each value's
    tail is searched."""
    search = _OFFSET.search
    flags = [
        v.endswith(("Z", "z"))
        or (len(v) > 10 and search(v, len(v) - 32 if len(v) > 32 else 0) is not None)
        for v in values.tolist()
    ]
    return pd.Series(flags, index=values.index, dtype=bool)


def parse_datetimes(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """ISO 8601 strings -> naive UTC datetime64 (NaT where unparseable or empty)."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    filled = values != ""
    if not filled.any():
        return out
    if fmt:  # a vendor's own format first; ISO 8601 for what it does not parse
        parsed = pd.to_datetime(values[filled], format=fmt, errors="coerce")
        out[filled] = parsed.dt.tz_convert(None) if parsed.dt.tz is not None else parsed
        rest = filled & out.isna()
        if rest.any():
            out[rest] = parse_datetimes(values.where(rest, ""))[rest]
        return out
    has_offset = _offsets(values) & filled
    naive = filled & ~has_offset
    if naive.any():
        out[naive] = pd.to_datetime(values[naive], format="ISO8601", errors="coerce")
    if has_offset.any():
        aware = pd.to_datetime(values[has_offset], format="ISO8601", utc=True, errors="coerce")
        out[has_offset] = aware.dt.tz_convert(None)
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
    joined = "\x1f".join(values)
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (JSON escapes) cannot be stored
        values = [v.encode("utf-8", "replace").decode("utf-8") for v in values]
        joined = "\x1f".join(values)
    if "\x00" in joined:
        values = [v.replace("\x00", "") for v in values]
    if is_text:
        return [v.replace("\r\n", "\n") for v in values] if "\r" in joined else values
    return [v.strip() for v in values]


def _strip_all(frame: pd.DataFrame, spec: KindSpec) -> pd.DataFrame:
    out = {
        col: pd.Series(
            _clean_column(frame[col].tolist(), spec.columns[col] == "text"),
            index=frame.index,
            dtype=object,
        )
        for col in spec.names
    }
    return pd.DataFrame(out, index=frame.index)


def _filled(s: pd.Series, is_text: bool) -> pd.Series:
    if is_text:
        return pd.Series([bool(v.strip()) for v in s.tolist()], index=s.index, dtype=bool)
    return s != ""


def validate(
    frame: pd.DataFrame, spec: KindSpec, date_formats: dict[str, str] | None = None
) -> Validated:
    """Check every row of ``frame`` (canonical string columns) against ``spec``."""
    date_formats = date_formats or {}
    cells = _strip_all(frame, spec)
    typed: dict[str, pd.Series] = {}
    problems: list[tuple[pd.Series, str]] = []

    filled_by_col = {c: _filled(cells[c], t == "text") for c, t in spec.columns.items()}
    for col in spec.required:
        problems.append((~filled_by_col[col], f"missing required '{col}'"))

    for col, ctype in spec.columns.items():
        s = cells[col]
        filled = filled_by_col[col]
        if ctype in {"datetime", "date"}:
            parsed = parse_datetimes(s, date_formats.get(col))
            problems.append((filled & parsed.isna(), f"'{col}' is not an ISO 8601 date"))
            typed[col] = parsed.dt.normalize() if ctype == "date" else parsed
        elif ctype == "float":
            num = pd.to_numeric(s.where(filled, None), errors="coerce").astype(float)
            retry = filled & num.isna()
            if retry.any():  # "USD 48,000.00", "$1,200": currency marks, thousands commas
                cleaned = s[retry].str.replace(_MONEY_NOISE, "", regex=True)
                num[retry] = pd.to_numeric(cleaned, errors="coerce").astype(float)
            bad = filled & ~np.isfinite(num.to_numpy())
            problems.append((bad, f"'{col}' is not a number"))
            if col in spec.ranges:
                lo, hi = spec.ranges[col]
                out = filled & ~bad & ((num < lo) | (num > hi))
                span = f">= {lo:g}" if hi == float("inf") else f"between {lo:g} and {hi:g}"
                problems.append((out, f"'{col}' must be {span}"))
            typed[col] = num
        elif ctype == "bool":
            low = s.str.lower()
            problems.append((filled & ~low.isin(_TRUE | _FALSE), f"'{col}' is not true/false"))
            typed[col] = low.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
        elif ctype == "email":
            lowered = [v.lower() for v in s.tolist()]
            typed[col] = pd.Series(email_domains(lowered), index=s.index, dtype=object)
            typed[PERSON] = pd.Series(lowered, index=s.index, dtype=object)  # content key only
        elif ctype == "domain":
            typed[col] = s.map(normalize_domain)
        else:
            longest = max(map(len, s.tolist()), default=0)  # masks only where one is too long
            if ctype == "id" and longest > MAX_ID_CHARS:
                problems.append(
                    (s.str.len() > MAX_ID_CHARS, f"'{col}' longer than {MAX_ID_CHARS} characters")
                )
            if col in _WIDTH and longest > _WIDTH[col]:
                width = _WIDTH[col]
                problems.append((s.str.len() > width, f"'{col}' longer than {width} characters"))
            typed[col] = s

    if spec.kind == "accounts":
        cur = typed["currency"].str.upper().where(typed["currency"] != "", "USD")
        problems.append((~cur.isin(ISO_4217), "'currency' is not an ISO 4217 code"))
        typed["currency"] = cur
    if spec.kind == "surveys":
        stype = typed["survey_type"].str.lower().where(typed["survey_type"] != "", "nps")
        problems.append((~stype.isin(SURVEY_RANGES), "'survey_type' must be nps or csat"))
        score = typed["score"]
        for name, (lo, hi) in SURVEY_RANGES.items():
            wrong = (stype == name) & score.notna() & ((score < lo) | (score > hi))
            problems.append(
                (wrong, f"'score' of a {name} survey must be between {lo:g} and {hi:g}")
            )
        problems.append(
            (
                (stype == "nps") & score.notna() & (score % 1 != 0),
                "'score' of an nps survey must be whole",
            )
        )
        typed["survey_type"] = stype
    if spec.kind == "opportunities":
        order = typed["closed_at"].notna() & (typed["closed_at"] < typed["created_at"])
        problems.append((order, "'closed_at' is before 'created_at'"))

    bad_any = pd.Series(False, index=frame.index)
    for mask, _ in problems:
        bad_any |= mask.fillna(False).astype(bool)
    rejected: dict[int, str] = {}
    if bad_any.any():
        for idx in frame.index[bad_any.to_numpy()]:
            reasons = [msg for mask, msg in problems if bool(mask.get(idx, False))]
            rejected[int(idx)] = "; ".join(dict.fromkeys(reasons))
    good = pd.DataFrame(typed, index=frame.index)[~bad_any.to_numpy()]
    return Validated(good, rejected)
