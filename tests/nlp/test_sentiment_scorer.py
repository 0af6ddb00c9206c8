"""Plumbing of the sentiment scorer on a tiny random model: windows, padding, pooling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sentiment_tiny import make_tiny_model

from ingest.settings import Settings
from nlp.sentiment import scorer_for
from nlp.sentiment.registry import model_version
from nlp.sentiment.scorer import window_starts


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("tiny")
    return make_tiny_model(root / "model"), Settings(data_dir=root / "data")


@pytest.mark.parametrize("n,width,overlap", [(0, 14, 4), (14, 14, 4), (15, 14, 4), (100, 14, 4)])
def test_windows_cover_every_token(n: int, width: int, overlap: int) -> None:
    starts = window_starts(n, width, overlap)
    covered = set()
    for s in starts:
        assert 0 <= s and s + width <= max(n, width)
        covered.update(range(s, min(n, s + width)))
    assert covered == set(range(n))
    if n > width:
        assert starts[-1] == n - width  # the last window is flush with the end


def test_long_text_is_chunked_and_its_end_matters(tiny: tuple[Path, Settings]) -> None:
    artifacts, settings = tiny
    scorer = scorer_for(artifacts, settings, variant="torch-fp32")
    prefix = "the account manager wrote to us about the renewal and the invoices " * 5
    a, b = prefix + "everything is wonderful", prefix + "refund cancel terrible outage"
    df = scorer.score_texts([a, b, "short"])
    assert df["n_chunks"].tolist()[2] == 1
    assert min(df["n_chunks"].tolist()[:2]) > 3
    # the texts differ only after the first window: a silent cut would score them equally
    cols = ["p_negative", "p_neutral", "p_positive"]
    assert not np.allclose(df.loc[0, cols].to_numpy(float), df.loc[1, cols].to_numpy(float))


def test_scores_do_not_depend_on_batch_neighbours(tiny: tuple[Path, Settings]) -> None:
    artifacts, settings = tiny
    scorer = scorer_for(artifacts, settings, variant="onnx-fp32")
    texts = ["great", "the export failed again and again " * 3, "", "how do I add a user?"]
    together = scorer.score_texts(texts)
    alone = [scorer.score_texts([t]).iloc[0] for t in texts]
    for i, row in enumerate(alone):
        cols = ["p_negative", "p_neutral", "p_positive"]
        got = together.loc[i, cols].to_numpy(float)
        assert np.allclose(got, row[cols].to_numpy(float), atol=1e-5)


def test_output_shape_probabilities_and_version(tiny: tuple[Path, Settings]) -> None:
    artifacts, settings = tiny
    scorer = scorer_for(artifacts, settings)  # served variant: int8 ONNX, built on demand
    assert (settings.data_dir / "sentiment" / "onnx").is_dir()
    df = scorer.score_texts(["b", "a much longer text " * 10, "c"])
    probs = df[["p_negative", "p_neutral", "p_positive"]].to_numpy()
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert np.allclose(df["sentiment"], df["p_positive"] - df["p_negative"])
    assert set(df["label"]) <= {"negative", "neutral", "positive"}
    assert (df["model_version"] == model_version(artifacts)).all()
    again = scorer.score_texts(["c", "b"])  # order follows the input, not the length sort
    assert np.allclose(again.loc[0, "p_neutral"], df.loc[2, "p_neutral"], atol=1e-3)
    assert scorer.score_texts([]).empty


def test_version_changes_with_the_head(tiny: tuple[Path, Settings], tmp_path: Path) -> None:
    artifacts, _ = tiny
    other = make_tiny_model(tmp_path / "other", seed=1)
    assert model_version(artifacts) != model_version(other)


def test_onnx_backend_split_across_threads_matches_one_run(tiny: tuple[Path, Settings]) -> None:
    """A batch split into parts that run at once (each cut to its own longest row) gives
    the pooled vectors of one run over the whole padded batch."""
    from nlp.sentiment.backends import OnnxBackend
    from nlp.sentiment.export import ensure_onnx
    from nlp.sentiment.scorer import pad_batch

    artifacts, settings = tiny
    path = ensure_onnx(artifacts, settings, "onnx-fp32")
    rng = np.random.default_rng(0)
    rows = [[101, *rng.integers(1000, 20000, n).tolist(), 102] for n in (1, 3, 14, 2, 9, 5, 7)]
    ids, mask = pad_batch(rows)
    whole = OnnxBackend(path, threads=1)(ids, mask)
    for threads in (2, 3, 16):
        split = OnnxBackend(path, threads=threads)(ids, mask)
        assert split.shape == whole.shape
        assert np.allclose(split, whole, atol=1e-5)


def test_export_uses_eager_attention(tiny: tuple[Path, Settings]) -> None:
    """The exported graph has no per-layer SDPA mask conversion or NaN guard (IsNaN)."""
    import onnx

    from nlp.sentiment.export import ensure_onnx

    artifacts, settings = tiny
    graph = onnx.load(str(ensure_onnx(artifacts, settings, "onnx-fp32"))).graph
    ops = [n.op_type for n in graph.node]
    assert "IsNaN" not in ops
    assert ops.count("Softmax") == 2  # one per block of the tiny model


def test_export_of_an_older_recipe_is_replaced(tiny: tuple[Path, Settings], tmp_path: Path) -> None:
    from nlp.sentiment.export import ensure_onnx
    from nlp.sentiment.model import EXPORT_RECIPE
    from nlp.sentiment.registry import encoder_key, sentiment_dir

    artifacts, _ = tiny
    settings = Settings(data_dir=tmp_path / "data")
    folder = sentiment_dir(settings) / "onnx" / encoder_key(artifacts)
    folder.mkdir(parents=True)
    (folder / "encoder.fp32.onnx").write_bytes(b"an export of an older recipe")
    (folder / "encoder.int8.pc1.onnx").write_bytes(b"its int8 model")
    path = ensure_onnx(artifacts, settings)
    assert path.name == f"encoder.int8.{EXPORT_RECIPE}.onnx"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"encoder.fp32.{EXPORT_RECIPE}.onnx", path.name]
    )
