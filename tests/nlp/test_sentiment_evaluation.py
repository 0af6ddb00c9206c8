"""Label mapping, two-class comparison, calibration error and weak-label rules."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.errors import InputError
from nlp.evaluation import (
    classification_metrics,
    expected_calibration_error,
    model_predictions,
    parse_labels,
    vader_predictions,
)
from nlp.sentiment.adapt import nps_label, stars_label
from nlp.sentiment.calibration import fit_temperature
from nlp.sentiment.data import valence_to_label


@pytest.mark.parametrize(
    "raw,expected",
    [
        (["negative", "Neutral", " positive "], [0, 1, 2]),
        (["neg", "neu", "pos"], [0, 1, 2]),
        (["-1", "0", "1"], [0, 1, 2]),
        ([-1, 0, 1.0], [0, 1, 2]),
        (["0", "1", "1"], [0, 2, 2]),  # 0/1 is negative/positive
        (["negative", "positive"], [0, 2]),
    ],
)
def test_label_schemes(raw: list, expected: list[int]) -> None:
    assert parse_labels(raw).tolist() == expected


def test_unknown_labels_say_what_is_accepted() -> None:
    with pytest.raises(InputError, match="negative/neutral/positive"):
        parse_labels(["good", "bad"])


def test_two_class_labels_compare_only_those_probabilities() -> None:
    probs = np.array([[0.30, 0.60, 0.10], [0.05, 0.90, 0.05 + 1e-3]])
    pred, conf = model_predictions(probs, [0, 2])
    assert pred.tolist() == [0, 2]  # neutral's mass never wins a two-class file
    assert conf[0] == pytest.approx(0.75)
    assert model_predictions(probs, [0, 1, 2])[0].tolist() == [1, 1]


def test_vader_never_answers_a_class_the_file_lacks() -> None:
    texts = ["The meeting is at noon.", "I love it", "This is terrible"]
    assert vader_predictions(texts, [0, 1, 2]).tolist() == [1, 2, 0]
    assert set(vader_predictions(texts, [0, 2]).tolist()) <= {0, 2}
    assert vader_predictions(texts, [1, 2]).tolist() == [1, 2, 1]


def test_metrics_and_calibration_error() -> None:
    y = np.array([0, 0, 2, 2])
    m = classification_metrics(y, np.array([0, 2, 2, 2]), [0, 2])
    assert m["accuracy"] == 0.75 and m["per_class"]["negative"]["recall"] == 0.5
    assert expected_calibration_error(
        np.array([0.9] * 10), np.array([1] * 9 + [0])
    ) == pytest.approx(0.0)
    assert expected_calibration_error(
        np.array([0.9] * 10), np.array([1] * 5 + [0] * 5)
    ) == pytest.approx(0.4)


def test_temperature_undoes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    logits = rng.normal(0, 1, (2000, 3))
    logits[np.arange(2000), y] += 1.0
    t = fit_temperature(logits * 4.0, y, np.zeros(2000, bool))
    assert 3.0 < t < 5.5


def test_weak_label_and_band_rules() -> None:
    assert [stars_label(s) for s in (1, 2, 3, 4, 5)] == [0, 0, 1, 2, 2]
    assert [nps_label(s) for s in (0, 6, 7, 8, 9, 10)] == [0, 0, 1, 1, 2, 2]
    assert [valence_to_label(v) for v in (-0.5, -0.49, 0.0, 0.49, 0.5)] == [0, 1, 1, 1, 2]
