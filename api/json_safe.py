"""JSON that never carries NaN or infinity, for every encoder of the api package.

``json_safe(value)`` turns NaN and +/-inf into None (null), numpy scalars into Python
numbers and tuples into lists, recursively. ``SafeJSONResponse`` is the app's default
response class: a route whose content holds a non-finite float answers with null there
instead of failing to encode (a 500). The fitting code never stores such a figure (see
``risk.fit``); this is the second line.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse


def json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        try:
            value = value.item()
        except (TypeError, ValueError):
            return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except ValueError:  # "Out of range float values are not JSON compliant"
            return json.dumps(
                json_safe(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode("utf-8")
