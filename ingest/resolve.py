"""Account resolution, in the contract's order.

1. ``account_id`` when it names a stored account;
2. the domain of an e-mail address, or ``reviewer_domain``, against ``accounts.domain``;
3. the normalized company name against ``accounts.name`` (``normalize_company``).

A domain or name shared by several accounts is ambiguous and resolves nothing. A record
that resolves to no account is stored unresolved with its keys in ``account_ref``;
``reresolve`` (run after every accounts ingest) resolves such records once their
account arrives. Opportunities keep the ``account_id`` they were given (a prospect's
while no account has it) and are resolved when an account of that id is stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, select, update

from ingest.db.schema import accounts, documents, leads, opportunities, surveys
from ingest.writer import JsonText, json_objects

_LEGAL = {
    "inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co",
    "company", "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty",
    "oy", "ab", "as", "aps", "kk", "kg", "the",
}  # fmt: skip
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize_company(name: str) -> str:
    """'Acme, Inc.' -> 'acme'; 'Müller & Söhne GmbH' -> 'muller and sohne'."""
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    words = _NON_WORD.sub(" ", folded.lower().replace("&", " and ")).split()
    while len(words) > 1 and words[-1] in _LEGAL:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words) or (name or "").strip().lower()


def _unique_map(pairs: list[tuple[str, str]]) -> dict[str, str]:
    counts = Counter(key for key, _ in pairs if key)
    return {key: acc for key, acc in pairs if key and counts[key] == 1}


@dataclass
class AccountIndex:
    """What resolution matches against: account ids, unique domains, unique names."""

    ids: set[str] = field(default_factory=set)
    by_domain: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection) -> AccountIndex:
        rows = conn.execute(
            select(accounts.c.account_id, accounts.c.domain, accounts.c.name_norm)
        ).all()
        return cls(
            ids={r.account_id for r in rows},
            by_domain=_unique_map([(r.domain or "", r.account_id) for r in rows]),
            by_name=_unique_map([(r.name_norm or "", r.account_id) for r in rows]),
        )


def account_refs(frame: pd.DataFrame) -> pd.DataFrame:
    """The resolution keys of each row: account_id, domain, company (normalized)."""
    empty = pd.Series("", index=frame.index, dtype=object)
    acc = frame["account_id"] if "account_id" in frame else empty
    domain = empty
    for col in ("requester_email", "respondent_email", "email", "reviewer_domain"):
        if col in frame:
            domain = frame[col]
    company = (
        frame["reviewer_company"].map(normalize_company) if "reviewer_company" in frame else empty
    )
    return pd.DataFrame({"account_id": acc, "domain": domain, "company": company})


def resolve(refs: pd.DataFrame, index: AccountIndex) -> tuple[pd.Series, pd.Series]:
    """(account_id or None, resolved_by or None) per row of ``refs``."""
    ids = refs["account_id"].to_numpy(dtype=object)
    has_id = refs["account_id"].isin(index.ids).to_numpy()
    by_domain = refs["domain"].map(index.by_domain).to_numpy(dtype=object)
    by_name = refs["company"].map(index.by_name).to_numpy(dtype=object)
    has_domain, has_name = ~pd.isna(by_domain), ~pd.isna(by_name)
    account = np.where(
        has_id, ids, np.where(has_domain, by_domain, np.where(has_name, by_name, None))
    )
    how = np.full(len(refs), None, dtype=object)
    how[has_name] = "name"
    how[has_domain] = "domain"
    how[has_id] = "account_id"
    return (
        pd.Series(account, index=refs.index, dtype=object),
        pd.Series(how, index=refs.index, dtype=object),
    )


def ref_json(refs: pd.DataFrame) -> JsonText:
    """``account_ref`` values: the non-empty keys of each row as a JSON object (None when
    it has none)."""
    return json_objects({k: refs[k].tolist() for k in ("account_id", "domain", "company")})


def reresolve(conn: Connection) -> int:
    """Resolve stored documents, surveys, leads and opportunities that were unresolved;
    returns how many."""
    index = AccountIndex.load(conn)
    if not index.ids:
        return 0
    o = opportunities.c
    changed = 0
    prospects = conn.execute(
        select(o.account_id).where(o.resolved_by.is_(None)).distinct()
    ).scalars()
    now_known = [a for a in prospects if a in index.ids]
    for start in range(0, len(now_known), 500):
        result = conn.execute(
            update(opportunities)
            .where(o.resolved_by.is_(None), o.account_id.in_(now_known[start : start + 500]))
            .values(resolved_by="account_id")
        )
        changed += result.rowcount
    for table in (documents, surveys, leads):
        rows = conn.execute(
            select(table.c.id, table.c.account_ref).where(
                table.c.account_id.is_(None), table.c.account_ref.is_not(None)
            )
        ).all()
        if not rows:
            continue
        refs = pd.DataFrame([_ref_row(r.account_ref) for r in rows], index=[r.id for r in rows])
        account, how = resolve(refs, index)
        params: list[dict[str, Any]] = [
            {"row_id": rid, "acc": acc, "how": by}
            for rid, acc, by in zip(refs.index, account, how, strict=True)
            if acc is not None
        ]
        if params:
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(account_id=bindparam("acc"), resolved_by=bindparam("how")),
                params,
            )
            changed += len(params)
    return changed


def _ref_row(ref: Any) -> dict[str, str]:
    ref = ref if isinstance(ref, dict) else {}
    return {k: str(ref.get(k) or "") for k in ("account_id", "domain", "company")}
