"""The compute engine seam without Ray: the local engine, engine choice, CLI usage errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from api.cli import cli
from nlp.engines import LOCAL, EngineUnavailableError, one_thread, open_engine


def test_local_map_runs_when_asked_and_keeps_item_order() -> None:
    calls: list[int] = []

    def square(shared: int, x: int) -> int:
        calls.append(x)
        return shared + x * x

    pending = LOCAL.start_map(square, [3, 1, 2], 10)
    assert calls == []  # nothing runs before the results are asked for
    assert pending() == [19, 11, 14]
    assert calls == [3, 1, 2]


def test_local_batches_build_the_step_once() -> None:
    built: list[int] = []

    def make():  # type: ignore[no-untyped-def]
        built.append(1)
        return lambda frame: frame.assign(y=frame["x"] * 2)

    frames = [pd.DataFrame({"x": [i, i + 1]}) for i in range(3)]
    with LOCAL.batches(make) as run:
        out = list(run(frames))
    assert built == [1]
    assert [f["y"].tolist() for f in out] == [[0, 2], [2, 4], [4, 6]]


def test_a_task_runs_its_blas_on_one_thread() -> None:
    from threadpoolctl import threadpool_info

    def blas_threads(_: object, __: object) -> list[int]:
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    assert set(one_thread(blas_threads, None, None)) <= {1}


def test_engine_choice_errors_are_input_errors() -> None:
    with pytest.raises(EngineUnavailableError, match="--engine ray"):
        with open_engine("local", "10.0.0.5:6379"):
            pass
    with pytest.raises(EngineUnavailableError, match="unknown engine 'spark'"):
        with open_engine("spark"):
            pass


def test_an_explicit_address_without_the_ray_engine_is_a_usage_error(
    cli_env: dict[str, str],
) -> None:
    res = CliRunner().invoke(cli, ["score", "--ray-address", "127.0.0.1:1"], env=cli_env)
    assert res.exit_code == 2
    assert "127.0.0.1:1" in res.output and "--engine ray" in res.output


def test_the_address_variable_alone_leaves_the_local_engine_alone(
    cli_env: dict[str, str],
) -> None:
    env = {**cli_env, "UNDERTOW_RAY_ADDRESS": "127.0.0.1:1"}
    res = CliRunner().invoke(cli, ["score", "--sentiment-only", "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert '"engine": "local"' in res.stdout


def test_forecast_chunks_cut_one_random_stream() -> None:
    """A chunk's generator, advanced by the draws before it, continues the one stream."""
    from risk.forecast import chunk_stream

    rng = np.random.default_rng(7)
    rng.standard_normal(13)  # the parameter draws leave the stream at an odd place
    state = rng.bit_generator.state
    whole = rng.random(5 * 4 * 3)
    first = chunk_stream(state, 0).random((5, 1, 3))
    second = chunk_stream(state, 5 * 1 * 3).random((5, 3, 3))
    assert np.array_equal(np.concatenate([first.ravel(), second.ravel()]), whole)


def test_the_product_imports_no_ray_until_the_ray_engine_is_asked_for() -> None:
    import subprocess
    import sys

    code = (
        "import sys, api.cli, api.app, nlp.engines, nlp.scoring, nlp.aspects.store, "
        "nlp.channels.store, risk.fit, risk.backtest, risk.forecast; "
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
