"""The KPI definitions under change control: ``marketing/definitions/kpi.yaml``.

``load_definitions()`` reads the file once per process (on first use, never at import)
and checks what the code relies on: a version, the conversion window, and a change log
whose newest entry is that version. Every funnel figure carries ``version`` as
``definitions_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from marketing.errors import DefinitionsError

KPI_PATH = Path(__file__).with_name("kpi.yaml")


@dataclass(frozen=True)
class KpiDefinitions:
    """The parsed definitions file: its version, the window the code applies, and the
    whole document (served by provenance)."""

    version: str
    effective: str
    conversion_window_days: int
    document: dict[str, Any]
    path: Path

    @property
    def change_log(self) -> list[dict[str, Any]]:
        return list(self.document.get("change_log") or [])


def parse_definitions(text: str, path: Path = KPI_PATH) -> KpiDefinitions:
    """The definitions of a YAML text; DefinitionsError names what is wrong."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise DefinitionsError(f"{path}: expected a mapping of definitions")
    version = str(doc.get("version") or "").strip()
    window = (doc.get("windows") or {}).get("conversion_window_days")
    log = doc.get("change_log") or []
    if not version:
        raise DefinitionsError(f"{path}: 'version' is missing")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise DefinitionsError(
            f"{path}: windows.conversion_window_days must be a whole number >= 1"
        )
    if not log or str(log[-1].get("version")) != version:
        raise DefinitionsError(
            f"{path}: the newest change_log entry must be version {version}: "
            "record every change of the definitions there"
        )
    return KpiDefinitions(version, str(doc.get("effective") or ""), window, doc, path)


@lru_cache(maxsize=1)
def load_definitions() -> KpiDefinitions:
    """The shipped definitions (``kpi.yaml``), read once."""
    try:
        text = KPI_PATH.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionsError(f"cannot read the KPI definitions {KPI_PATH}: {exc}") from exc
    return parse_definitions(text)
