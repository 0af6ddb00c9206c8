"""`undertow eval aspects`, `tag-aspects` and `report aspects` at the command line."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from api.cli import cli
from ingest.db.engine import open_store
from ingest.db.schema import documents
from ingest.settings import Settings
from nlp.aspects import ASPECTS
from nlp.aspects.evaluation import LABELED_PATH


def _invoke(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, args, env=env)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_eval_rules_only_json_on_the_labeled_test_split() -> None:
    result = _invoke(["eval", "aspects", "--rules-only", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    with LABELED_PATH.open(encoding="utf-8") as fh:
        n_test = sum(1 for row in csv.DictReader(fh) if row["split"] == "test")
    assert payload["n"] == n_test
    assert payload["split"] == "test"
    assert set(payload["per_aspect"]) == set(ASPECTS)
    for m in payload["per_aspect"].values():
        assert 0 <= m["precision"] <= 1 and 0 <= m["recall"] <= 1
    assert payload["micro_f1"] == payload["rules"]["micro_f1"]  # the same tagger twice
    assert 0 < payload["micro_f1"] <= 1


def test_eval_scores_a_users_csv_and_notices_wrong_labels(tmp_path: Path) -> None:
    rows = [
        {"body": "Way too expensive.", "tags": "pricing"},
        {"body": "The app crashes daily and support never answers.", "tags": "reliability|support"},
    ]
    good = _write(tmp_path / "good.csv", rows)
    result = _invoke(["eval", "aspects", str(good), "--text-col", "body", "--label-col", "tags",
                      "--rules-only", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n"] == 2 and payload["split"] == "test"
    assert payload["micro_f1"] == 1.0

    bad = _write(tmp_path / "bad.csv", [{**rows[0], "tags": "security"}, rows[1]])
    result = _invoke(["eval", "aspects", str(bad), "--text-col", "body", "--label-col", "tags",
                      "--rules-only", "--json"])  # fmt: skip
    assert json.loads(result.stdout)["micro_f1"] < 1.0


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([{"text": "Too expensive."}], "column 'aspects' is missing"),
        ([{"text": "Too expensive.", "aspects": "cost"}], "unknown aspects"),
    ],
)
def test_eval_bad_input_exits_2_with_one_line(tmp_path: Path, rows: list, fragment: str) -> None:
    result = _invoke(["eval", "aspects", str(_write(tmp_path / "x.csv", rows)), "--json"])
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_eval_missing_file_exits_2(tmp_path: Path) -> None:
    result = _invoke(["eval", "aspects", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2


@pytest.mark.real_model
def test_eval_with_the_model_reports_it_next_to_the_rules() -> None:
    result = _invoke(["eval", "aspects", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["model_version"].startswith("aspects-")
    assert set(payload["rules"]["per_aspect"]) == set(ASPECTS)
    assert set(payload["methods"]) <= {"rules", "embedding", "rules+embedding"}
    assert payload["texts_per_second"] > 0


@pytest.mark.real_model
def test_tag_aspects_then_report_over_the_store(settings: Settings, cli_env: dict) -> None:
    engine = open_store(settings)
    texts = ["Far too expensive. Support is slow to answer.", "Thanks!", "It crashes all day."]
    with engine.begin() as conn:
        for i, text in enumerate(texts):
            h = hashlib.sha256(text.encode()).hexdigest()
            conn.execute(
                insert(documents).values(
                    kind="review", source="test", source_id=f"r{i}", account_id="acme",
                    created_at=datetime(2025, 6, 1 + i), text=text, text_hash=h, content_hash=h,
                    text_chars=len(text), truncated=False, source_file="r.csv",
                    source_line=i + 2, row_hash=h,
                )
            )  # fmt: skip
    engine.dispose()
    first = _invoke(["tag-aspects", "--no-sentence-sentiment", "--json"], cli_env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["tagged"] == 3
    again = json.loads(_invoke(["tag-aspects", "--json"], cli_env).stdout)
    assert again["tagged"] == 0 and again["cached"] == 3

    report = _invoke(["report", "aspects", "--account", "acme", "--json"], cli_env)
    assert report.exit_code == 0, report.output
    aspects = {r["aspect"] for r in json.loads(report.stdout)["rows"]}
    assert {"pricing", "support", "reliability"} <= aspects
    missing = _invoke(["report", "aspects", "--account", "nobody", "--json"], cli_env)
    assert missing.exit_code == 2
