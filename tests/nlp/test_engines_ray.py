"""Scoring on the Ray engine (a local Ray instance of the session, 2 CPUs) against the
local engine: same scores, idempotent reruns, a killed worker retried, clear errors for an
address that is not a Ray cluster. Skipped when the ``ray`` extra is not installed."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, delete, func, insert, select

from api.cli import cli
from ingest.db.schema import documents, sentiment_scores
from ingest.settings import Settings
from nlp.engines import EngineUnavailableError
from nlp.scoring import score_store
from nlp.sentiment.registry import set_current

pytest.importorskip("ray", reason="the 'ray' extra is not installed")

KINDS = ("accounts", "opportunities", "reviews", "tickets", "surveys", "attribution")
WORDS = "the invoice sync failed again and support was slow but the new dashboard is great".split()


def add_texts(engine: Engine, n: int) -> None:
    """``n`` distinct texts of 3 to 60 words (long ones span several 16-token windows)."""
    rows = []
    for i in range(n):
        text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + (i * 7) % 58)) + f" #{i}"
        h = hashlib.sha256(text.encode()).hexdigest()[:32]
        rows.append(
            {
                "kind": "ticket",
                "source": "test",
                "source_id": f"t{i}",
                "created_at": datetime(2025, 1, 1),
                "text": text,
                "text_hash": h,
                "content_hash": h,
                "text_chars": len(text),
                "truncated": False,
                "source_file": "t.csv",
                "source_line": i + 2,
                "row_hash": h,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(documents), rows)


def scores(engine: Engine) -> pd.Series:
    with engine.connect() as conn:
        rows = conn.execute(select(sentiment_scores.c.text_hash, sentiment_scores.c.sentiment))
        return pd.Series(dict(rows.all())).sort_index()


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sentiment_scores)).scalar_one())


def test_a_rerun_on_ray_scores_only_what_is_missing(
    engine: Engine, tiny_settings: Settings, ray_engine: object
) -> None:
    add_texts(engine, 200)
    assert score_store(engine, tiny_settings)["scored"] == 200
    again = score_store(engine, tiny_settings, compute=ray_engine)  # type: ignore[arg-type]
    assert (again["scored"], again["cached"]) == (0, 200)
    lost = scores(engine).index[::3].tolist()  # as if a crash lost these batches
    with engine.begin() as conn:
        conn.execute(delete(sentiment_scores).where(sentiment_scores.c.text_hash.in_(lost)))
    resumed = score_store(engine, tiny_settings, compute=ray_engine)  # type: ignore[arg-type]
    assert (resumed["scored"], resumed["cached"]) == (len(lost), 200 - len(lost))
    assert stored(engine) == 200


def test_a_worker_that_dies_is_restarted_and_its_batch_run_again(
    tmp_path: Path, ray_engine: object
) -> None:
    died = tmp_path / "died"

    def make() -> Callable[[pd.DataFrame], pd.DataFrame]:
        def step(frame: pd.DataFrame) -> pd.DataFrame:
            try:  # the first batch to claim the file (an atomic create): its worker dies
                os.close(os.open(died, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return frame.assign(pid=os.getpid())
            os._exit(1)

        return step

    frames = [pd.DataFrame({"i": [k]}) for k in range(8)]
    with ray_engine.batches(make) as run:  # type: ignore[attr-defined]
        out = pd.concat(list(run(frames)))
    assert died.exists()  # a worker did die
    assert sorted(out["i"]) == list(range(8))  # and no batch was lost


def _rows(engine: Engine, table: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*(table.c[c] for c in columns))))


def test_aspects_and_channels_on_ray_store_the_local_rows(
    tmp_path: Path, tiny_model: Path, ray_engine: object
) -> None:
    """(SQLite only: the rerun test covers workers writing to PostgreSQL.)"""
    from ingest.db.engine import open_store
    from ingest.db.schema import aspect_scores, channel_labels
    from nlp.aspects import tag_store
    from nlp.channels import classify_store
    from nlp.engines.ray_backend import RayEngine

    tiny_settings = Settings(database_url=f"sqlite:///{tmp_path / 'u.db'}", data_dir=tmp_path)
    set_current(tiny_settings, tiny_model)
    engine = open_store(tiny_settings)

    texts = [
        "The app crashes when I export. Support answered fast though. Billing is a mess.",
        "Far too expensive for what it does. The onboarding call was great.",
        "Sync with Salesforce fails every night. Please fix it, the team is angry.",
        "Lovely people, thanks.",
    ]
    answers = ["a colleague told me", "heard it on a podcast", "ChatGPT suggested you", "no idea"]
    rows = [(t, "ticket") for t in texts] + [(a, "attribution") for a in answers]
    with engine.begin() as conn:
        for i, (text, kind) in enumerate(rows):
            h = hashlib.sha256(text.encode()).hexdigest()[:32]
            conn.execute(
                insert(documents).values(
                    kind=kind, source="test", source_id=f"x{i}", created_at=datetime(2025, 1, 1),
                    text=text, text_hash=h, content_hash=h, text_chars=len(text),
                    truncated=False, source_file="x.csv", source_line=i + 2, row_hash=h,
                )
            )  # fmt: skip
    score_store(engine, tiny_settings)
    aspects = ["text_hash", "aspect", "confidence", "sentiment", "method"]
    channels = ["document_id", "channel", "weight", "confidence", "method"]
    local_tags = tag_store(engine, tiny_settings)
    local_labels = classify_store(engine, tiny_settings)
    expected = _rows(engine, aspect_scores, aspects), _rows(engine, channel_labels, channels)
    with engine.begin() as conn:
        conn.execute(delete(aspect_scores))
        conn.execute(delete(channel_labels))
    one = RayEngine(1)  # one worker: a model load less (the same function runs either way)
    on_ray = (
        tag_store(engine, tiny_settings, compute=one),
        classify_store(engine, tiny_settings, compute=one),
    )
    assert on_ray[0]["tagged"] == local_tags["tagged"] == 4
    assert on_ray[1]["classified"] == local_labels["classified"] == 4
    got = _rows(engine, aspect_scores, aspects), _rows(engine, channel_labels, channels)
    assert got == expected and len(expected[0]) >= 5


def _ok(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(cli, args, env=env)
    assert res.exit_code == 0, (args, res.output)
    return res


def _sentiment(url: str) -> pd.Series:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(sentiment_scores.c.text_hash, sentiment_scores.c.sentiment))
        out = pd.Series(dict(rows.all())).sort_index()
    engine.dispose()
    return out


def test_a_demo_world_on_ray_gives_the_local_feed(
    tmp_path: Path, tiny_model: Path, ray_engine: object
) -> None:
    """The demo world through the CLI twice, ``--engine local`` and ``--engine ray``: each
    text's sentiment within 0.02 and the churn feed's p_churn within 0.01 per account.
    (SQLite only: the rerun test above covers workers writing to PostgreSQL.)"""
    data = tmp_path / "data"
    set_current(Settings(data_dir=data), tiny_model)
    cli_env = {"UNDERTOW_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    world = tmp_path / "world"
    _ok(["demo", "--out", str(world), "--accounts", "60", "--months", "12", "--end",
         "2026-06-30"], {**cli_env, "UNDERTOW_DATABASE_URL": "sqlite://"})  # fmt: skip
    local_env = {**cli_env, "UNDERTOW_DATABASE_URL": f"sqlite:///{tmp_path / 'local.db'}"}
    ray_env = {**cli_env, "UNDERTOW_DATABASE_URL": f"sqlite:///{tmp_path / 'ray.db'}",
               "UNDERTOW_PROGRESS": "1"}  # fmt: skip
    feeds = []
    for env, engine in ((local_env, []), (ray_env, ["--engine", "ray"])):
        for kind in KINDS:
            _ok(["ingest", kind, str(world / f"{kind}.csv")], env)
        scored = _ok(["score", "--sentiment-only", "--json", *engine], env)
        out = json.loads(scored.stdout.strip().splitlines()[-1])
        assert out["engine"] == (engine[-1] if engine else "local") and out["scored"] > 500
        _ok(["fit", *engine], env)
        res = _ok(["export", "churn-risk", "--format", "json", "--horizon-days", "180"], env)
        feeds.append(pd.DataFrame(json.loads(res.stdout)).set_index("account_id").sort_index())
    progress = scored.stderr  # the Ray run's progress bar reached its end
    assert "scoring sentiment" in progress and f"{out['scored']}/{out['scored']}" in progress
    local, on_ray = (
        _sentiment(local_env["UNDERTOW_DATABASE_URL"]),
        _sentiment(ray_env["UNDERTOW_DATABASE_URL"]),
    )
    assert list(local.index) == list(on_ray.index)
    assert (local - on_ray).abs().max() <= 0.02
    assert list(feeds[0].index) == list(feeds[1].index) and len(feeds[0]) > 20
    assert (feeds[0]["p_churn"] - feeds[1]["p_churn"]).abs().max() <= 0.01


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (not a Ray cluster)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_an_address_that_is_not_a_ray_cluster_fails_fast_naming_it(silent_server: int) -> None:
    from nlp.engines.ray_backend import check_reachable

    closed = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(EngineUnavailableError, match=closed):
        check_reachable(closed)
    silent = f"127.0.0.1:{silent_server}"
    start = time.perf_counter()
    with pytest.raises(EngineUnavailableError, match=f"{silent} .*timed out"):
        check_reachable(silent, timeout=0.5)
    assert time.perf_counter() - start < 3


def test_score_on_an_unreachable_cluster_is_exit_2_naming_the_address(tmp_path: Path) -> None:
    address = f"127.0.0.1:{_closed_port()}"
    env = {
        "UNDERTOW_DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}",
        "UNDERTOW_DATA_DIR": str(tmp_path / "data"),
        "UNDERTOW_RAY_ADDRESS": address,
    }
    res = subprocess.run(
        [sys.executable, "-m", "api.cli", "score", "--engine", "ray"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and lines[0].startswith("error:")


def test_a_shared_part_goes_to_the_object_store_once_while_it_lives(
    ray_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a fit's back-tests and list check share one inputs object: one copy in the store
    import ray

    put: list[Any] = []
    real = ray.put
    monkeypatch.setattr(ray, "put", lambda obj, **kw: put.append(obj) or real(obj, **kw))
    # a lambda travels by value (this test module is not importable on the workers)
    _scaled_sum = lambda shared, item: int(shared[0]["x"].sum()) * shared[1] + item  # noqa: E731
    frame = pd.DataFrame({"x": range(5)})  # sums to 10
    assert ray_engine.start_map(_scaled_sum, [1, 2], (frame, 3))() == [31, 32]
    assert ray_engine.start_map(_scaled_sum, [3], (frame, 5))() == [53]
    assert sum(p is frame for p in put) == 1
    other = pd.DataFrame({"x": range(3)})  # a new object is put, and reaches the task
    assert ray_engine.start_map(_scaled_sum, [0], (other, 1))() == [3]
    assert sum(p is other for p in put) == 1
