"""Reasons: each driver's words follow the sign of its number, and a reason names only the
drivers whose direction a salesperson reads the way the model means it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.drivers import FEATURES, citable, describe, explain, feature_spec, reason
from risk.trajectories import ASPECT_PREFIX

NAMES = [*FEATURES, f"{ASPECT_PREFIX}billing"]
TYPICAL = {name: 0.0 if feature_spec(name).change else 0.5 for name in NAMES} | {  # type: ignore[union-attr]
    "nps_level": 7.0,
    "csat_level": 4.0,
    "expanded_recently": 0.2,
}


def _explain(features: dict[str, float], effects: dict[str, float], outcome: str = "risk"):  # type: ignore[no-untyped-def]
    names = list(features)
    frame = pd.DataFrame([features])
    typical = np.array([TYPICAL.get(n, 0.0) for n in names])
    contributions = np.array([[effects[n] for n in names]])
    reasons, drivers = explain(names, contributions, frame, typical, outcome)  # type: ignore[arg-type]
    return reasons[0], drivers[0]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("above", [True, False])
def test_each_phrase_follows_the_sign_of_its_number(name: str, above: bool) -> None:
    spec = feature_spec(name)
    assert spec is not None
    typical = TYPICAL[name]
    value = typical + (1.0 if above else -0.2)
    text = describe(name, value, typical)
    assert text.startswith(spec.higher if above else spec.lower)
    assert (spec.lower if above else spec.higher) not in text


@pytest.mark.parametrize("name", [n for n in NAMES if feature_spec(n).risk])  # type: ignore[union-attr]
@pytest.mark.parametrize("outcome", ["risk", "expansion"])
def test_a_reason_names_a_driver_only_from_the_side_it_reads(name: str, outcome: str) -> None:
    spec = feature_spec(name)
    assert spec is not None
    side = spec.risk if outcome == "risk" else spec.expand
    typical = TYPICAL[name]
    lead = "Risk raised by" if outcome == "risk" else "Expansion more likely:"
    for direction in (1, -1):
        value = typical + (1.0 if direction > 0 else -0.2)
        text = describe(name, value, typical)
        reason_, drivers = _explain({name: value}, {name: 0.4}, outcome)
        agrees = side == 0 or direction == side
        assert drivers[0]["cited"] is agrees
        assert (text in reason_) is agrees
        assert reason_.startswith(lead) is agrees


def test_the_issue_s_contradictions_cannot_be_written() -> None:
    # NPS rising, in a model that (after the level) reads a recent rise as a risk
    reason_, drivers = _explain({"nps_trend": 0.9}, {"nps_trend": 0.3})
    assert "NPS rising" not in reason_ and drivers[0]["cited"] is False
    assert drivers[0]["text"] == "NPS rising (+0.9 over 3 months)"  # kept as data, not a reason
    # tone above typical can never be a reason risk went up; below typical says so
    reason_, _ = _explain({"sentiment_level": 0.7}, {"sentiment_level": 0.5})
    assert "tone" not in reason_
    reason_, _ = _explain({"sentiment_level": 0.1}, {"sentiment_level": 0.5})
    assert reason_ == "Risk raised by tone more negative than typical (+0.10 vs. +0.50 typical)."


def test_a_falling_model_change_is_not_cited_against_the_shown_trend() -> None:
    row = {"sentiment_change": -0.2, "sentiment_trend": 0.15}
    assert not citable("sentiment_change", -0.2, 0.0, 0.5, "risk", row)
    assert citable("sentiment_change", -0.2, 0.0, 0.5, "risk", {"sentiment_trend": -0.1})


def test_lowering_drivers_and_no_driver() -> None:
    reason_, _ = _explain({"nps_level": 9.0}, {"nps_level": -0.6})
    assert (
        reason_
        == "Risk lower than the typical account's: NPS above typical (9.0/10 vs. 7.0/10 typical)."
    )
    assert reason([], "risk").startswith("No driver stands out")
    assert reason([], "expansion").startswith("No driver stands out")


MILLI = st.integers(-3000, 3000).map(lambda k: k / 1000)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), MILLI, MILLI, MILLI),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    ),
    st.sampled_from(["risk", "expansion"]),
)
def test_every_cited_phrase_agrees_with_its_number_and_its_effect(items, outcome) -> None:  # type: ignore[no-untyped-def]
    names = [n for n, *_ in items]
    frame = pd.DataFrame([{n: v for n, v, *_ in items}])
    typical = np.array([t for _, _, t, _ in items])
    contributions = np.array([[e for *_, e in items]])
    reasons, drivers = explain(names, contributions, frame, typical, outcome)
    for d in drivers[0]:
        spec = feature_spec(d["feature"])
        assert spec is not None
        sign = spec.direction(d["value"], d["typical"])  # from the numbers as shown
        word = {1: spec.higher, -1: spec.lower, 0: spec.same}[sign]
        assert d["text"].startswith(word)
        if sign:
            ref = 0.0 if spec.change else d["typical"]
            assert np.sign(d["value"] - ref) == sign
        if d["text"] not in reasons[0]:
            continue
        # named in the reason: cited, on its side, and pushing the way the sentence says
        assert d["cited"]
        side = spec.risk if outcome == "risk" else spec.expand
        assert side == 0 or np.sign(d["effect"]) == sign * side
        raised = reasons[0].startswith(("Risk raised", "Expansion more likely"))
        assert (d["effect"] > 0) == raised


def test_an_indicator_at_its_typical_value_reads_as_typical() -> None:
    spec = feature_spec("expanded_recently")
    assert spec is not None
    assert describe("expanded_recently", 0.0, 0.0).startswith(spec.same)  # hypothesis found it
    assert describe("expanded_recently", 0.0, 0.2).startswith(spec.lower)
    assert describe("expanded_recently", 1.0, 0.2).startswith(spec.higher)
