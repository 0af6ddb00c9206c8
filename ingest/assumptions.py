"""The one syntax of explicit, stored assumptions, shared by churn scenarios
(``risk.scenarios``) and pipeline forecasts (``marketing.forecast``):
``[KEY=VALUE[,KEY=VALUE...]:]TARGET OP NUMBER[%]`` with OP one of ``+=``, ``-=``, ``*=``.

``split_assumption`` only reads the syntax; each area checks its own targets, filters and
bounds and raises its own error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PATTERN = re.compile(
    r"^\s*(?:(?P<where>[^:]+):)?\s*(?P<target>[a-z_]+)\s*(?P<op>\+=|-=|\*=)\s*"
    r"(?P<value>[+-]?\d+(?:\.\d+)?)\s*(?P<pct>%)?\s*$"
)


@dataclass(frozen=True)
class Assumption:
    """One shift: ``target op value`` on what matches every ``where`` filter."""

    target: str
    op: str
    value: float
    where: tuple[tuple[str, str], ...] = ()
    text: str = ""
    percent: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "target": self.target,
            "op": self.op,
            "value": self.value,
            "where": dict(self.where),
        }

    @property
    def factor(self) -> float:
        """The multiplier of a multiplicative target (``*=1.2`` or ``+=20%``)."""
        if self.op == "*=":
            return self.value
        return 1.0 + (self.value if self.op == "+=" else -self.value) / 100.0

    @property
    def delta(self) -> float:
        """The shift of an additive target."""
        return self.value if self.op == "+=" else -self.value


def split_assumption(text: str) -> tuple[re.Match[str] | None, list[tuple[str, str, str]]]:
    """The syntax's match (None: not an assumption) and its filters as (part, key, value)."""
    m = PATTERN.match(text or "")
    if not m:
        return None, []
    parts = []
    for part in (m["where"] or "").split(","):
        if part.strip():
            key, sep, val = part.partition("=")
            parts.append((part, key.strip() if sep else "", val.strip()))
    return m, parts
