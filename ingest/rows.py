"""Validated canonical rows -> rows of the store's tables, one builder per kind.

Texts are PII-masked (``mask_pii``) and then cut to ``max_text_chars``; ``text_chars``
records the masked length before the cut and ``truncated`` whether a cut happened.
Hashes are the first ``HASH_CHARS`` hex characters (128 bits) of a sha256 (``digest``).
``text_hash`` is that of the stored text; ``content_hash`` that of kind, the
record's author or account key (e-mail address, else account_id, reviewer domain or
company), its timestamp and its text, so the same text re-exported under another id is
a duplicate, while two people of one account giving the same short answer are not.
``email_hash`` (attribution answers and leads) is the digest of a lower-cased e-mail
address, which links an answer to the lead of the same person; the address itself is
stored nowhere. ``natural_key`` (spend) is the digest of the columns that identify a
figure (``KindSpec.natural_key``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ingest.kind_rules import CHANNEL_GIVEN
from ingest.masking import mask_texts
from ingest.records import KindSpec
from ingest.resolve import ref_json
from ingest.validate import PERSON, email_domains
from ingest.writer import Columns, JsonText, json_objects


@dataclass
class Provenance:
    """Where the chunk's valid rows came from (aligned with the validated frame)."""

    source: list[str]
    source_file: str
    lines: list[int]
    row_hashes: list[str]
    run_id: int | None


HASH_CHARS = 32  # 128 bits: a collision among 10^9 texts has a chance of about 10^-21


def digest(text: str) -> str:
    """The stored hash of ``text``: its sha256's first ``HASH_CHARS`` hex characters."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


def digests(texts: list[str]) -> list[str]:
    return list(map(digest, texts))


def _datetimes(series: pd.Series) -> np.ndarray:
    """A datetime64[us] array (NaT = missing); the writer formats it per back end."""
    return series.to_numpy(dtype="datetime64[us]")


def _dates(series: pd.Series) -> list[Any]:
    """Python dates (None = missing): accounts are compared field by field on re-ingest."""
    return [None if pd.isna(v) else v.date() for v in series.tolist()]


def _floats(series: pd.Series) -> list[float | None]:
    return [None if v != v else float(v) for v in series.tolist()]


def _opt(series: pd.Series) -> list[str | None]:
    return [v if v else None for v in series.tolist()]


def _titles(series: pd.Series) -> list[str | None]:
    """Masked titles (None where empty), masked in one scan like the texts."""
    return [t or None for t in mask_texts(series.tolist())]


def prepare_texts(texts: list[str], max_chars: int) -> tuple[list[str], list[int], list[bool]]:
    """(stored texts, lengths before the cut, whether cut) of masked ``texts``."""
    masked = mask_texts(texts)
    chars = [len(t) for t in masked]
    cut = [n > max_chars for n in chars]
    if any(cut):
        masked = [t[:max_chars] if c else t for t, c in zip(masked, cut, strict=True)]
    return masked, chars, cut


def _provenance(prov: Provenance, keep: list[int] | None = None) -> Columns:
    pick = (lambda xs: [xs[i] for i in keep]) if keep is not None else (lambda xs: list(xs))
    n = len(pick(prov.lines))
    return {
        "source_file": [prov.source_file] * n,
        "source_line": pick(prov.lines),
        "row_hash": pick(prov.row_hashes),
        "ingest_run_id": [prov.run_id] * n,
    }


def document_rows(
    frame: pd.DataFrame,
    spec: KindSpec,
    prov: Provenance,
    account: list[str | None],
    resolved_by: list[str | None],
    refs: pd.DataFrame,
    max_chars: int,
    keep: list[int] | None = None,
) -> Columns:
    """``documents`` rows of a chunk; ``keep`` selects positions (survey comments)."""
    assert spec.doc_kind and spec.text_column
    sel = (lambda xs: [xs[i] for i in keep]) if keep is not None else (lambda xs: list(xs))
    f = frame.iloc[keep] if keep is not None else frame
    texts, chars, cut = prepare_texts(f[spec.text_column].tolist(), max_chars)
    created = _datetimes(f[spec.date_column])
    r = refs.iloc[keep] if keep is not None else refs
    n = len(texts)
    people = f[PERSON].tolist() if PERSON in f else [""] * n
    keys = [
        p or a or d or c
        for p, a, d, c in zip(
            people, r["account_id"].tolist(), r["domain"].tolist(), r["company"].tolist(),
            strict=True,
        )
    ]  # fmt: skip
    stamps = np.datetime_as_string(created, unit="s").tolist()
    content = [
        f"{spec.doc_kind}\x1f{k}\x1f{c}\x1f{t}" for k, c, t in zip(keys, stamps, texts, strict=True)
    ]
    title: list[str | None] = [None] * n
    rating: list[float | None] = [None] * n
    attrs: list[str | None] = JsonText([None] * n)
    if spec.kind == "reviews":
        title = _titles(f["title"])
        rating = _floats(f["rating"])
    elif spec.kind == "tickets":
        title = _titles(f["subject"])
        rating = _floats(f["csat"])
        attrs = json_objects({"status": f["status"].tolist(), "priority": f["priority"].tolist()})
    elif spec.kind == "surveys":
        rating = _floats(f["score"])
        attrs = json_objects({"survey_type": f["survey_type"].tolist()})
    elif spec.kind == "attribution":
        attrs = json_objects({"question": f["question"].tolist()})
    # every kind writes the column (a PostgreSQL ingest stages one column set per table)
    emails = email_hashes(people) if spec.kind == "attribution" else [None] * n
    return {
        "kind": [spec.doc_kind] * n,
        "source": sel(prov.source),
        "source_id": f[spec.id_column].tolist(),
        "account_id": sel(account),
        "resolved_by": sel(resolved_by),
        "created_at": created,
        "title": title,
        "text": texts,
        "text_hash": digests(texts),
        "content_hash": digests(content),
        "text_chars": chars,
        "truncated": cut,
        "rating": rating,
        "attrs": attrs,
        "account_ref": ref_json(r),
        "email_hash": emails,
        **_provenance(prov, keep),
    }


def survey_rows(
    frame: pd.DataFrame,
    prov: Provenance,
    account: list[str | None],
    resolved_by: list[str | None],
    refs: JsonText,
    document_ids: list[int | None],
) -> Columns:
    return {
        "source": list(prov.source),
        "response_id": frame["response_id"].tolist(),
        "account_id": list(account),
        "resolved_by": list(resolved_by),
        "submitted_at": _datetimes(frame["submitted_at"]),
        "survey_type": frame["survey_type"].tolist(),
        "score": _floats(frame["score"]),
        "document_id": document_ids,
        "account_ref": refs,
        **_provenance(prov),
    }


def account_rows(frame: pd.DataFrame, prov: Provenance, now: datetime) -> Columns:
    from ingest.resolve import normalize_company

    names = frame["name"].tolist()
    n = len(names)
    return {
        "account_id": frame["account_id"].tolist(),
        "name": names,
        "name_norm": [normalize_company(x) for x in names],
        "domain": _opt(frame["domain"]),
        "segment": _opt(frame["segment"]),
        "arr": _floats(frame["arr"]),
        "currency": frame["currency"].tolist(),
        "contract_start": _dates(frame["contract_start"]),
        "churned_at": _dates(frame["churned_at"]),
        "tracked_source": _opt(frame["tracked_source"]),
        "source": list(prov.source),
        **_provenance(prov),
        "updated_at": [now] * n,
    }


def email_hashes(lowered: list[str]) -> list[str | None]:
    """``email_hash`` of lower-cased addresses (None where a value is no address)."""
    return [digest(p) if d else None for p, d in zip(lowered, email_domains(lowered), strict=True)]


def opportunity_rows(frame: pd.DataFrame, prov: Provenance, known: set[str]) -> Columns:
    """``opportunities`` rows; ``known``: the stored accounts' ids (an opportunity whose
    account_id is none of them is a prospect's: stored as given, unresolved)."""
    ids = frame["account_id"].tolist()
    return {
        "source": list(prov.source),
        "opportunity_id": frame["opportunity_id"].tolist(),
        "account_id": ids,
        "resolved_by": ["account_id" if a in known else None for a in ids],
        "created_at": _datetimes(frame["created_at"]),
        "amount": _floats(frame["amount"]),
        "stage": _opt(frame["stage"]),
        "closed_at": _datetimes(frame["closed_at"]),
        "is_won": frame["is_won"].tolist(),
        "tracked_source": _opt(frame["tracked_source"]),
        **_provenance(prov),
    }


def spend_rows(frame: pd.DataFrame, spec: KindSpec, prov: Provenance, now: datetime) -> Columns:
    """``spend`` rows; ``natural_key`` is the digest of ``spec.natural_key``'s values."""
    days = _dates(frame["date"])
    n = len(days)
    parts = [[d.isoformat() for d in days]] + [
        frame[c].tolist() for c in spec.natural_key if c != "date"
    ]
    return {
        "natural_key": digests(["\x1f".join(p) for p in zip(*parts, strict=True)]),
        "date": days,
        "channel": frame["channel"].tolist(),
        "channel_given": frame[CHANNEL_GIVEN].tolist(),
        "spend": _floats(frame["spend"]),
        "currency": frame["currency"].tolist(),
        "campaign": _opt(frame["campaign"]),
        "segment": _opt(frame["segment"]),
        "impressions": _floats(frame["impressions"]),
        "clicks": _floats(frame["clicks"]),
        "source": list(prov.source),
        **_provenance(prov),
        "updated_at": [now] * n,
    }


def lead_rows(
    frame: pd.DataFrame,
    prov: Provenance,
    account: list[str | None],
    resolved_by: list[str | None],
    refs: JsonText,
    now: datetime,
) -> Columns:
    n = len(frame)
    return {
        "source": list(prov.source),
        "lead_id": frame["lead_id"].tolist(),
        "account_id": list(account),
        "resolved_by": list(resolved_by),
        "account_ref": refs,
        "email_hash": email_hashes(frame[PERSON].tolist()),
        "created_at": _datetimes(frame["created_at"]),
        "mql_at": _datetimes(frame["mql_at"]),
        "sql_at": _datetimes(frame["sql_at"]),
        "opportunity_id": _opt(frame["opportunity_id"]),
        "tracked_source": _opt(frame["tracked_source"]),
        "segment": _opt(frame["segment"]),
        **_provenance(prov),
        "updated_at": [now] * n,
    }


def experiment_rows(frame: pd.DataFrame, prov: Provenance, now: datetime) -> Columns:
    n = len(frame)
    return {
        "source": list(prov.source),
        "experiment_id": frame["experiment_id"].tolist(),
        "channel": frame["channel"].tolist(),
        "channel_given": frame[CHANNEL_GIVEN].tolist(),
        "start_date": _dates(frame["start"]),
        "end_date": _dates(frame["end"]),
        "spend_delta": _floats(frame["spend_delta"]),
        "outcome": frame["outcome"].tolist(),
        "lift": _floats(frame["lift"]),
        "lift_low": _floats(frame["lift_low"]),
        "lift_high": _floats(frame["lift_high"]),
        "design": _opt(frame["design"]),
        **_provenance(prov),
        "updated_at": [now] * n,
    }
