"""The KPI definitions file is under change control: a version, the window the code
applies, and a change log whose newest entry is that version."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from marketing.definitions import KPI_PATH, load_definitions, parse_definitions
from marketing.errors import DefinitionsError


def test_the_shipped_definitions_parse_and_log_their_version() -> None:
    defs = load_definitions()
    assert defs.path == KPI_PATH and defs.version
    assert defs.change_log[-1]["version"] == defs.version
    doc = defs.document
    for stage in ("lead", "mql", "sql", "opportunity", "won", "lost"):
        assert doc["stages"][stage]
    for key in ("lead_to_mql_rate", "mql_to_sql_rate", "sql_to_opportunity_rate",
                "opportunity_to_won_rate", "interval"):  # fmt: skip
        assert doc["conversion_rates"][key]
    assert {"sourced", "influenced"} <= set(doc["sourced_vs_influenced"])
    assert defs.conversion_window_days == doc["windows"]["conversion_window_days"]


def _edited(**changes: object) -> str:
    doc = yaml.safe_load(KPI_PATH.read_text(encoding="utf-8"))
    doc.update(changes)
    return yaml.safe_dump(doc)


def test_a_change_without_a_log_entry_is_refused() -> None:
    with pytest.raises(DefinitionsError, match="newest change_log entry must be version 9.9"):
        parse_definitions(_edited(version="9.9"))
    with pytest.raises(DefinitionsError, match="conversion_window_days"):
        parse_definitions(_edited(windows={"conversion_window_days": 0}))
    with pytest.raises(DefinitionsError, match="'version' is missing"):
        parse_definitions(_edited(version=""))
    with pytest.raises(DefinitionsError, match="not valid YAML"):
        parse_definitions("version: [", Path("x.yaml"))
