"""Outlier-channel smoothing before int8: the same function in fp32, less int8 error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nlp.sentiment.export import quantize_int8, smooth_outliers  # noqa: E402

HIDDEN = 64


def two_matmuls_on_one_input(path: Path, seed: int = 0) -> Path:
    """x -> LayerNormalization -> (MatMul W1, MatMul W2): both share the normalized input,
    as a BERT block's query/key/value projections do."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(np.ones(HIDDEN, np.float32), "gamma"),
        numpy_helper.from_array(np.zeros(HIDDEN, np.float32), "beta"),
        numpy_helper.from_array(rng.normal(0, 0.1, (HIDDEN, 32)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(0, 0.1, (HIDDEN, 48)).astype(np.float32), "w2"),
    ]
    nodes = [
        helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["h"], axis=-1),
        helper.make_node("MatMul", ["h", "w1"], ["y1"], "mm1"),
        helper.make_node("MatMul", ["h", "w2"], ["y2"], "mm2"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", HIDDEN])],
        [
            helper.make_tensor_value_info("y1", TensorProto.FLOAT, ["n", 32]),
            helper.make_tensor_value_info("y2", TensorProto.FLOAT, ["n", 48]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def inputs_with_outliers(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0, 1, (n, HIDDEN)).astype(np.float32)
    x[:, 5] = 40.0 + x[:, 5]  # two channels far above the rest survive the LayerNorm
    x[:, 17] = -30.0 + x[:, 17]
    return x


def run(path: Path, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["y1", "y2"], {"x": x})


def test_smoothing_keeps_the_function_and_halves_int8_error(tmp_path: Path) -> None:
    plain = two_matmuls_on_one_input(tmp_path / "plain.onnx")
    calibration = [{"x": inputs_with_outliers(64, seed=1)}]
    smoothed = smooth_outliers(plain, tmp_path / "smoothed.onnx", calibration)

    graph = onnx.load(str(smoothed)).graph
    muls = [n for n in graph.node if n.op_type == "Mul"]
    assert len(muls) == 1  # one shared input: one Mul feeding both MatMuls
    assert {n.input[0] for n in graph.node if n.op_type == "MatMul"} == {muls[0].output[0]}

    x = inputs_with_outliers(256, seed=2)  # other rows than the calibration ones
    exact = run(plain, x)
    for a, b in zip(run(smoothed, x), exact, strict=True):
        assert np.allclose(a, b, rtol=1e-4, atol=1e-4)

    q_plain = quantize_int8(plain, tmp_path / "plain.int8.onnx")
    q_smooth = quantize_int8(smoothed, tmp_path / "smoothed.int8.onnx")
    err_plain = sum(np.abs(a - b).mean() for a, b in zip(run(q_plain, x), exact, strict=True))
    err_smooth = sum(np.abs(a - b).mean() for a, b in zip(run(q_smooth, x), exact, strict=True))
    assert err_smooth < 0.5 * err_plain


def test_no_outliers_no_change(tmp_path: Path) -> None:
    plain = two_matmuls_on_one_input(tmp_path / "plain.onnx")
    x = np.random.default_rng(3).normal(0, 1, (64, HIDDEN)).astype(np.float32)
    smoothed = smooth_outliers(plain, tmp_path / "smoothed.onnx", [{"x": x}])
    assert [n.op_type for n in onnx.load(str(smoothed)).graph.node] == [
        "LayerNormalization",
        "MatMul",
        "MatMul",
    ]
