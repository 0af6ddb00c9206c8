"""End to end on the demo world: demo files -> ingest -> classify -> measure, against
truth.csv (the answers' reported channels). The demo's phrasings are not used to build
the classifier; this is the out-of-sample check of the issue's "Must show"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from ingest.settings import Settings
from marketing.dark_funnel import measure
from nlp.channels import CHANNELS, DARK_CHANNELS, classify_store

demo = pytest.importorskip("ingest.demo")


@pytest.mark.real_model
@pytest.mark.slow
def test_dark_share_and_mix_match_the_demo_truth(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    from ingest.pipeline import ingest_paths

    files = demo.write_world(demo.build_world(accounts=400, months=24, seed=7), tmp_path / "w")
    for kind in ("accounts", "attribution", "opportunities"):
        ingest_paths(engine, kind, [Path(files[kind])], settings=settings)
    classify_store(engine, settings)
    m = measure(engine)

    truth = pd.read_csv(files["truth"], keep_default_na=False, dtype=str)
    answered = truth[truth["answered"].str.lower() == "true"]
    reported = [[c for c in v.split("|") if c] or ["other"] for v in answered["reported_channels"]]
    true_dark = sum(any(c in DARK_CHANNELS for c in r) for r in reported) / len(reported)
    mix = dict.fromkeys(CHANNELS, 0.0)
    for r in reported:
        for c in r:
            mix[c] += 1 / len(r) / len(reported)

    assert m["n"] == len(answered)
    assert abs(m["dark_share"] - true_dark) <= 0.03
    assert m["dark_share_low"] <= true_dark <= m["dark_share_high"]
    l1 = sum(abs(mix[c["channel"]] - c["self_reported_share"]) for c in m["channels"])
    assert l1 <= 0.20
    assert m["response_rate"] == pytest.approx(len(answered) / len(truth), abs=1e-3)
