"""Dark-funnel measurement: what buyers say brought them, against what tracking recorded.

``measure(engine, date_from=None, date_to=None)`` returns the keys of
``GET /v1/dark-funnel`` (CONTRACT.md sections 3-4) plus documented extras.

Inputs. The period's answers are the ``documents`` of kind ``attribution`` whose
``created_at`` falls in [date_from, date_to] (whole days, both ends included). Their
channels come from ``channel_labels`` of the current classifier version; answers not yet
labeled there are classified on the fly with the same classifier (nothing is written:
``undertow report dark-funnel`` runs ``classify_store`` first so repeated reads are cheap).

Definitions (an answer's channel weights sum to 1; several channels share it equally):

- ``responses``: the sum of the channel's weights over the period's answers;
  ``self_reported_share = responses / n`` with a Wilson 95% interval.
- ``dark_share``: the share of answers naming at least one dark channel, Wilson 95%.
- ``tracked_share``: the share of the answering accounts (distinct, resolved) whose
  ``accounts.tracked_source`` maps (``nlp.channels.map_tracked_source``) to the channel;
  ``tracked_dark_share`` the same for the five dark channels together.
- ``undercount_points = dark_share - tracked_dark_share`` (a difference of shares; x100
  for percentage points).
- ``misattributed_share``: among answering accounts that named at least one channel
  other than ``other``, the share whose tracked channel is none of the channels named.
- ``response_rate``: answering accounts / accounts active in the period (contract
  started by its end, not churned before its start; all accounts without a period).
- ``influenced_arr``: sum over answering accounts of ARR x the account's weight on the
  channel (an account with several answers averages them).
- ``pipeline``: the same weighting of the amounts of the opportunities created in the
  period, excluding closed-lost ones (``is_won`` false), of every party that answered:
  a resolved account, or a prospect (the account id its answer gave, or its
  respondent's e-mail). Opportunities reach a party by its account id (a prospect's
  opportunities are stored unresolved under that id) or through the answering person's
  lead that became them (``marketing.links``); each counts once per party.

Extras: ``dark_share_weighted`` (sum of the dark channels' shares), ``dark_share_corrected``
(+ ``_low``/``_high``): non-response correction by post-stratification. Responders are
reweighted to the active account population over cells segment x ARR band (the
population's ARR tertiles); a cell with no responder is merged into its segment, a
segment with none into the whole. Its interval is the stratified normal approximation
``sum W_h^2 p_h (1 - p_h) / n_h``. ``trends`` (by ``month`` and ``quarter``: n, dark
share with its interval, channel shares), ``period``, ``n``, ``accounts_answering``,
``unresolved_answers``, ``model_version``, ``method``, ``definitions_version`` (the KPI
definitions of sourced vs influenced, ``marketing/definitions/kpi.yaml``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from ingest.db.schema import accounts, channel_labels, documents
from marketing.definitions import load_definitions
from marketing.frames import answers_frame, leads_frame, opportunities_frame
from marketing.intervals import Z95, wilson
from marketing.links import link_frame, party_of
from marketing.periods import bounds
from nlp.channels import CHANNELS, DARK_CHANNELS, map_tracked_source


def _answers(engine: Engine, lo: datetime | None, hi: datetime | None) -> pd.DataFrame:
    q = select(
        documents.c.id.label("document_id"),
        documents.c.account_id,
        documents.c.created_at,
        documents.c.text,
    ).where(documents.c.kind == "attribution")
    if lo:
        q = q.where(documents.c.created_at >= lo)
    if hi:
        q = q.where(documents.c.created_at < hi)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(documents.c.id)).all()
    return pd.DataFrame(rows, columns=["document_id", "account_id", "created_at", "text"])


def _labels(engine: Engine, answers: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Channel weights of ``answers`` from the store, the rest classified on the fly."""
    from nlp.channels.classify import current_model_version
    from nlp.channels.store import label_frame

    version = current_model_version()
    cols = ["document_id", "channel", "weight", "confidence", "method"]
    if answers.empty:
        return pd.DataFrame(columns=cols), version
    q = select(
        channel_labels.c.document_id,
        channel_labels.c.channel,
        channel_labels.c.weight,
        channel_labels.c.confidence,
        channel_labels.c.method,
    ).where(channel_labels.c.model_version == version)
    with engine.connect() as conn:
        stored = pd.DataFrame(conn.execute(q).all(), columns=cols)
    stored = stored[stored["document_id"].isin(answers["document_id"])]
    missing = answers[~answers["document_id"].isin(stored["document_id"])]
    if len(missing):
        fresh = label_frame(missing[["document_id", "text"]])[cols]
        stored = pd.concat([stored, fresh], ignore_index=True) if len(stored) else fresh
    return stored, version


def _accounts(engine: Engine) -> pd.DataFrame:
    q = select(
        accounts.c.account_id,
        accounts.c.segment,
        accounts.c.arr,
        accounts.c.contract_start,
        accounts.c.churned_at,
        accounts.c.tracked_source,
    )
    with engine.connect() as conn:
        df = pd.DataFrame(
            conn.execute(q).all(),
            columns=[
                "account_id",
                "segment",
                "arr",
                "contract_start",
                "churned_at",
                "tracked_source",
            ],
        )
    df["segment"] = df["segment"].fillna("unknown").replace("", "unknown")
    df["tracked_channel"] = [map_tracked_source(v) for v in df["tracked_source"]]
    return df


def _active(accts: pd.DataFrame, date_from: date | None, date_to: date | None) -> pd.DataFrame:
    keep = pd.Series(True, index=accts.index)
    if date_to:
        keep &= pd.to_datetime(accts["contract_start"]) <= pd.Timestamp(date_to)
    if date_from:
        churned = pd.to_datetime(accts["churned_at"])
        keep &= churned.isna() | (churned >= pd.Timestamp(date_from))
    return accts[keep]


def _party_pipeline(
    engine: Engine, labels: pd.DataFrame, lo: datetime | None, hi: datetime | None
) -> dict[str, float]:
    """Per channel: the pipeline of every answering party weighted by its answers'
    share of the channel (module docstring)."""
    answers = answers_frame(engine)
    answers = answers[answers["document_id"].isin(labels["document_id"])]
    if answers.empty:
        return {}
    links = link_frame(answers, opportunities_frame(engine), leads_frame(engine))
    open_or_won = links["is_won"].map(lambda v: v is None or bool(v) or pd.isna(v))
    created = links["created_at"]
    links = links[
        links["link"].notna()
        & (created >= lo if lo else True)
        & (created < hi if hi else True)
        & open_or_won
    ]
    per_party = links.drop_duplicates(["party", "opportunity_row"]).groupby("party")["amount"].sum()
    if per_party.empty:
        return {}
    party = pd.Series(party_of(answers).to_numpy(), index=answers["document_id"].to_numpy())
    weighted = labels.assign(party=labels["document_id"].map(party))
    docs = weighted.groupby("party")["document_id"].nunique()
    share = weighted.groupby(["party", "channel"])["weight"].sum().unstack(fill_value=0.0)
    share = share.div(docs.reindex(share.index), axis=0)
    money = per_party.reindex(share.index).fillna(0.0)
    return {c: float((share[c] * money).sum()) for c in share.columns}


def _shares(labels: pd.DataFrame, n: int) -> dict[str, float]:
    sums = labels.groupby("channel")["weight"].sum()
    return {c: float(sums.get(c, 0.0)) / n for c in CHANNELS} if n else {}


def _dark_named(labels: pd.DataFrame) -> pd.Series:
    """Per document: whether the answer names a dark channel."""
    dark = labels["channel"].isin(DARK_CHANNELS) & (labels["weight"] > 0)
    return dark.groupby(labels["document_id"]).any()


def _corrected(
    dark_by_account: pd.Series, population: pd.DataFrame
) -> tuple[float | None, float | None, float | None, list[dict[str, Any]]]:
    """Post-stratified dark share (module docstring)."""
    if population.empty or dark_by_account.empty:
        return None, None, None, []
    pop = population.copy()
    cuts = np.unique(np.quantile(pop["arr"].astype(float), [1 / 3, 2 / 3]))
    pop["band"] = np.searchsorted(cuts, pop["arr"].astype(float), side="right")
    pop["cell"] = pop["segment"].astype(str) + "|" + pop["band"].astype(str)
    pop["dark"] = pop["account_id"].map(dark_by_account)
    responders = pop[pop["dark"].notna()]
    if responders.empty:
        return None, None, None, []
    seg_ok = set(responders["segment"])
    cell_ok = set(responders["cell"])
    pop["stratum"] = [
        cell if cell in cell_ok else (seg if seg in seg_ok else "all")
        for cell, seg in zip(pop["cell"], pop["segment"], strict=True)
    ]
    overall = float(responders["dark"].astype(float).mean())
    est, var, strata = 0.0, 0.0, []
    for stratum, grp in pop.groupby("stratum"):
        w = len(grp) / len(pop)
        if stratum == "all":
            resp = responders
        elif "|" in str(stratum):
            resp = responders[responders["cell"] == stratum]
        else:
            resp = responders[responders["segment"] == stratum]
        p = float(resp["dark"].astype(float).mean()) if len(resp) else overall
        n_h = max(len(resp), 1)
        est += w * p
        var += w * w * p * (1 - p) / n_h
        strata.append(
            {
                "stratum": str(stratum),
                "population": len(grp),
                "responders": len(resp),
                "dark_share": round(p, 4),
            }
        )
    half = Z95 * math.sqrt(var)
    return est, max(0.0, est - half), min(1.0, est + half), strata


def _trend(labels: pd.DataFrame, answers: pd.DataFrame, freq: str) -> list[dict[str, Any]]:
    periods = pd.to_datetime(answers["created_at"]).dt.to_period(freq).astype(str)
    by_doc = dict(zip(answers["document_id"], periods, strict=True))
    labels = labels.assign(period=labels["document_id"].map(by_doc))
    dark = _dark_named(labels)
    out = []
    for period, grp in labels.groupby("period"):
        docs = grp["document_id"].unique()
        n = len(docs)
        d = float(dark.loc[docs].sum())
        low, high = wilson(d, n)
        out.append(
            {
                "period": str(period),
                "n": n,
                "dark_share": round(d / n, 4),
                "dark_share_low": _r(low),
                "dark_share_high": _r(high),
                "channels": {c: round(s, 4) for c, s in _shares(grp, n).items() if s > 0},
            }
        )
    return out


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), nd)


def measure(
    engine: Engine, date_from: date | None = None, date_to: date | None = None
) -> dict[str, Any]:
    """The dark-funnel figures of the period (module docstring)."""
    lo, hi = bounds(date_from, date_to)
    answers = _answers(engine, lo, hi)
    labels, version = _labels(engine, answers)
    n = int(answers["document_id"].nunique())
    accts = _accounts(engine)
    population = _active(accts, date_from, date_to) if (date_from or date_to) else accts
    resolved = answers[
        answers["account_id"].notna() & answers["account_id"].isin(accts["account_id"])
    ]
    labels = labels.merge(answers[["document_id", "account_id"]], on="document_id", how="left")

    # account-level weights: the mean of the account's answers
    acc_labels = labels[labels["account_id"].isin(resolved["account_id"])]
    docs_per_account = resolved.groupby("account_id")["document_id"].nunique()
    acc_w = acc_labels.groupby(["account_id", "channel"])["weight"].sum().unstack(fill_value=0.0)
    acc_w = acc_w.div(docs_per_account.reindex(acc_w.index), axis=0)
    answering = list(acc_w.index)
    acc_info = accts.set_index("account_id").reindex(answering)
    tracked = acc_info["tracked_channel"]
    n_acc = len(answering)

    pipeline = _party_pipeline(engine, labels, lo, hi)
    arr = acc_info["arr"].astype(float).fillna(0.0)
    shares = _shares(labels, n)
    channels = []
    for c in CHANNELS:
        responses = shares.get(c, 0.0) * n
        low, high = wilson(responses, n)
        w = acc_w[c] if c in acc_w.columns else pd.Series(0.0, index=acc_w.index)
        channels.append(
            {
                "channel": c,
                "dark": c in DARK_CHANNELS,
                "responses": round(responses, 4),
                "self_reported_share": _r(shares.get(c)) if n else None,
                "self_reported_share_low": _r(low),
                "self_reported_share_high": _r(high),
                "tracked_share": _r(float((tracked == c).mean())) if n_acc else None,
                "influenced_arr": round(float((w * arr).sum()), 2),
                "pipeline": round(pipeline.get(c, 0.0), 2),
            }
        )

    dark_doc = _dark_named(labels) if n else pd.Series(dtype=bool)
    dark_count = float(dark_doc.sum()) if n else 0.0
    dark_share = dark_count / n if n else None
    d_low, d_high = wilson(dark_count, n)
    tracked_dark = float(tracked.isin(DARK_CHANNELS).mean()) if n_acc else None

    named = {
        a: {c for c in acc_w.columns if acc_w.at[a, c] > 0 and c != "other"} for a in answering
    }
    judged = [a for a in answering if named[a]]
    misattributed = (
        sum(tracked[a] not in named[a] for a in judged) / len(judged) if judged else None
    )
    pop_ids = set(population["account_id"])
    response_rate = len(pop_ids & set(answering)) / len(pop_ids) if pop_ids else None

    dark_by_account = (
        acc_w[[c for c in acc_w.columns if c in DARK_CHANNELS]].sum(axis=1) > 0
        if n_acc
        else pd.Series(dtype=bool)
    )
    corr, corr_low, corr_high, strata = _corrected(dark_by_account, population)

    return {
        "channels": channels,
        "dark_share": _r(dark_share),
        "dark_share_low": _r(d_low),
        "dark_share_high": _r(d_high),
        "tracked_dark_share": _r(tracked_dark),
        "undercount_points": _r(dark_share - tracked_dark)
        if dark_share is not None and tracked_dark is not None
        else None,
        "misattributed_share": _r(misattributed),
        "response_rate": _r(response_rate),
        # ---- extras
        "dark_share_weighted": _r(sum(shares.get(c, 0.0) for c in DARK_CHANNELS)) if n else None,
        "dark_share_corrected": _r(corr),
        "dark_share_corrected_low": _r(corr_low),
        "dark_share_corrected_high": _r(corr_high),
        "correction": {
            "method": "post-stratification of responders to active accounts by segment x ARR tertile",
            "strata": strata,
        },
        "trends": {"month": _trend(labels, answers, "M"), "quarter": _trend(labels, answers, "Q")}
        if n
        else {"month": [], "quarter": []},
        "period": {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
        },
        "n": n,
        "accounts_answering": n_acc,
        "accounts_active": len(pop_ids),
        "unresolved_answers": int(n - len(resolved)),
        "model_version": version,
        "method": "rules + MiniLM head (nlp.channels); Wilson 95% intervals",
        "definitions_version": load_definitions().version,
    }


def channel_evidence(
    engine: Engine,
    channel: str,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The answers behind a channel's figure, with their provenance (for
    ``GET /v1/provenance``): document id, account, date, text, file and line, weight,
    confidence and the rule or model that decided."""
    if channel not in CHANNELS:
        from ingest.errors import NotFoundError

        raise NotFoundError(f"unknown channel '{channel}'; channels: {', '.join(CHANNELS)}")
    lo, hi = bounds(date_from, date_to)
    answers = _answers(engine, lo, hi)
    labels, version = _labels(engine, answers)
    hits = labels[(labels["channel"] == channel) & (labels["weight"] > 0)]
    ids = [int(i) for i in hits["document_id"].head(limit)]
    if not ids:
        return []
    q = select(
        documents.c.id, documents.c.source_file, documents.c.source_line, documents.c.source_id
    ).where(documents.c.id.in_(ids))
    with engine.connect() as conn:
        prov = {r.id: r for r in conn.execute(q)}
    by_doc: dict[int, Any] = defaultdict(dict)
    for r in hits.itertuples():
        by_doc[int(r.document_id)] = r
    ans = answers.set_index("document_id")
    out = []
    for i in ids:
        r = by_doc[i]
        out.append(
            {
                "document_id": i,
                "response_id": prov[i].source_id,
                "account_id": ans.at[i, "account_id"],
                "submitted_at": ans.at[i, "created_at"],
                "text": ans.at[i, "text"],
                "source_file": prov[i].source_file,
                "source_line": prov[i].source_line,
                "weight": float(r.weight),
                "confidence": float(r.confidence),
                "decided_by": r.method,
                "model_version": version,
            }
        )
    return out
