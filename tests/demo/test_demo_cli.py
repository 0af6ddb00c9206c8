"""`undertow demo` at the CLI boundary, the --corpus option, and the world's ingestibility."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from api.cli import cli
from ingest.demo import KINDS, TRUTHS, build_world, write_world
from ingest.demo.texts import tone_of
from ingest.settings import Settings

SMALL = ["--accounts", "40", "--months", "6", "--end", "2025-06-30"]


def _run(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["demo", *args], catch_exceptions=False)


def test_demo_json_names_every_file_and_counts(tmp_path: Path) -> None:
    result = _run(["--out", str(tmp_path / "w"), *SMALL, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"files", "accounts", "documents"} <= set(payload)
    assert set(payload["files"]) == {*KINDS, *TRUTHS}
    assert all(Path(p).is_file() for p in payload["files"].values())
    assert payload["accounts"] == 40 == len(pd.read_csv(payload["files"]["accounts"]))
    tickets = pd.read_csv(payload["files"]["tickets"])
    assert payload["documents"] >= len(tickets) > 0


def test_demo_is_deterministic_on_disk(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert _run(["--out", str(tmp_path / name), *SMALL, "--seed", "5"]).exit_code == 0
    for kind in (*KINDS, *TRUTHS):
        a = (tmp_path / "a" / f"{kind}.csv").read_bytes()
        assert a == (tmp_path / "b" / f"{kind}.csv").read_bytes(), kind


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("words,label\nhello,positive\n", "text"),
        ("text,stars\nhello,5\n", "label"),
        ("text,label\nhello,great\nbye,awful\n", "labels must be"),
        ("text,label\nhello,positive\nhi,neutral\n", "negative and positive"),
    ],
)
def test_bad_corpus_is_exit_2_with_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    corpus = tmp_path / "corpus.csv"
    corpus.write_text(content, encoding="utf-8")
    result = _run(["--out", str(tmp_path / "w"), *SMALL, "--corpus", str(corpus)])
    assert result.exit_code == 2
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_corpus_file_and_bad_sizes_are_exit_2(tmp_path: Path) -> None:
    assert _run(["--out", str(tmp_path), "--corpus", str(tmp_path / "none.csv")]).exit_code == 2
    assert _run(["--out", str(tmp_path), "--accounts", "0"]).exit_code == 2
    assert _run(["--out", str(tmp_path), "--end", "June"]).exit_code == 2


def _corpus(tmp_path: Path, labels: dict[str, str], column: str = "label") -> Path:
    rows = [(f"{name} text number {k}", label) for name, label in labels.items() for k in range(30)]
    path = tmp_path / "corpus.csv"
    pd.DataFrame(rows, columns=["text", column]).to_csv(path, index=False)
    return path


def test_corpus_texts_are_drawn_by_the_tone_health_implies(tmp_path: Path) -> None:
    path = _corpus(tmp_path, {"sad": "negative", "plain": "neutral", "happy": "positive"})
    world = build_world(accounts=60, months=12, seed=2, corpus=path, end="2025-06")
    tickets = world["tickets"]
    expected = tickets["_valence"].map(tone_of).map({"neg": "sad", "neu": "plain", "pos": "happy"})
    assert (tickets["body"].str.split().str[0] == expected).all()
    assert set(tickets["body"].str.split().str[0]) == {"sad", "plain", "happy"}
    # the dynamics do not depend on the words
    plain = build_world(accounts=60, months=12, seed=2, end="2025-06")
    assert plain["truth"]["churned_at_true"].equals(world["truth"]["churned_at_true"])


@pytest.mark.parametrize("labels", [{"sad": "0", "happy": "1"}, {"sad": "-1", "happy": "1"}])
def test_two_class_corpus_splits_the_neutral_band(tmp_path: Path, labels: dict[str, str]) -> None:
    path = _corpus(tmp_path, labels, column="sentiment")
    world = build_world(accounts=60, months=12, seed=2, corpus=path, end="2025-06")
    bodies = pd.concat([world["tickets"]["body"], world["reviews"]["body"]])
    assert set(bodies.str.split().str[0]) == {"sad", "happy"}
    neutral = world["tickets"][world["tickets"]["_valence"].map(tone_of) == "neu"]
    sad = neutral["body"].str.startswith("sad")
    assert (sad == (neutral["_valence"] < 0)).all()


def test_demo_world_ingests_whole(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    pipeline = pytest.importorskip("ingest.pipeline")
    from ingest.db.schema import documents, quarantine

    world = build_world(accounts=60, months=12, seed=9, end="2025-06-30")
    files = write_world(world, tmp_path / "world")
    for kind in KINDS:
        summary = pipeline.ingest_paths(engine, kind, [files[kind]], settings=settings)
        assert summary.rejected == 0, (kind, summary.as_dict())
        assert summary.read == summary.inserted == len(world[kind])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar() == 0
        stored = conn.execute(select(func.count()).select_from(documents)).scalar()
    assert stored == world.documents


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "--seed must be 0 or more"),
        ({"end": "9999-12-31"}, "--end must be a day from 1900-01-01"),
        ({"end": "0005-01", "months": 120}, "--end must be a day from 1900-01-01"),
    ],
)
def test_build_world_refuses_what_it_cannot_simulate(kwargs: dict[str, Any], message: str) -> None:
    from ingest.errors import InputError

    with pytest.raises(InputError, match=message):
        build_world(accounts=5, **{"months": 3, **kwargs})
