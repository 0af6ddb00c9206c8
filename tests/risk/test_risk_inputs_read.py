"""Reading the store in chunks (``risk.inputs._frame``): the same frames however the rows
are cut, categoricals merged across chunks, and the texts' order by digest kept."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, insert, select
from synthetic_world import SyntheticWorld

import risk.inputs as risk_inputs
from ingest.db.schema import aspect_scores, documents
from ingest.settings import Settings
from risk.inputs import _typed, load_inputs

AS_OF = "2026-06-30"
FRAMES = ("accounts", "texts", "surveys", "aspects", "opportunities")


def _tag_aspects(engine: Engine) -> None:
    """Aspect rows on every 40th text, three aspects in turn (a chunk of 7 rows holds
    some of them only: the chunks' categories differ)."""
    with engine.connect() as conn:
        hashes = (
            conn.execute(select(documents.c.text_hash).order_by(documents.c.id)).scalars().all()
        )
    rows = [
        {"text_hash": h, "model_version": "aspects-test", "aspect": ("pricing", "support",
         "onboarding")[k % 3], "confidence": 0.9, "sentiment": (k % 5 - 2) / 2, "method": "test"}
        for k, h in enumerate(hashes[::40])
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(aspect_scores), rows)


def test_inputs_read_in_small_chunks_equal_inputs_read_whole(
    engine: Engine,
    settings: Settings,
    stored_world: SyntheticWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _tag_aspects(engine)
    whole = load_inputs(engine, AS_OF, settings=settings)
    monkeypatch.setattr(risk_inputs, "READ_CHUNK", 7)
    cut = load_inputs(engine, AS_OF, settings=settings)
    assert len(whole.texts) > 20 * 7 and len(whole.aspects) > 3 * 7
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(cut, name), getattr(whole, name))
    for name, column in (("texts", "account_id"), ("texts", "kind"), ("aspects", "aspect")):
        values = getattr(cut, name)[column]
        assert isinstance(values.dtype, pd.CategoricalDtype)
        assert list(values.cat.categories) == sorted(values.dropna().unique())
    # the texts keep the order of (account, date, kind, digest), as the store holds them
    keys = cut.texts[["account_id", "created_at"]].astype({"account_id": str})
    assert keys.equals(keys.sort_values(["account_id", "created_at"], kind="stable"))


def test_the_digest_sort_key_orders_as_the_digests_do() -> None:
    digests = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(2_000)]
    frame = _typed(pd.DataFrame({"text_hash": digests}), {"text_hash": "sort_key"})
    assert frame["text_hash"].dtype == np.uint64
    by_key = [digests[i] for i in np.argsort(frame["text_hash"].to_numpy(), kind="stable")]
    assert by_key == sorted(digests)


def test_an_empty_result_is_typed_like_a_full_one() -> None:
    empty = _typed(
        pd.DataFrame(columns=["a", "t", "x", "h"]),
        {"a": "category", "t": "datetime", "x": "number", "h": "sort_key"},
    )
    assert isinstance(empty["a"].dtype, pd.CategoricalDtype)
    assert empty["t"].dtype == "datetime64[ns]"
    assert empty["x"].dtype == float and empty["h"].dtype == np.uint64
    numbers = _typed(pd.DataFrame({"x": [1, None, "oops", 2.5]}), {"x": "number"})["x"]
    assert numbers.isna().tolist() == [False, True, True, False]
