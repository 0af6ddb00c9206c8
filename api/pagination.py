"""Opaque, stable cursors for keyset pagination.

A cursor is URL-safe base64 of a small JSON object: which list it belongs to (``q``), the
snapshot it was taken on (``r``) and the sort key of the last row served (``k``). The next
page continues on that snapshot even after a newer fit, so a client walking a feed never
sees a row twice or misses one. Clients must treat cursors as opaque strings.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ingest.errors import InputError

MAX_CURSOR_CHARS = 1024


def encode_cursor(query: str, run_id: str | None, key: Any) -> str:
    raw = json.dumps({"q": query, "r": run_id, "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, query: str) -> tuple[str | None, Any]:
    """(run_id, key) of a cursor issued for ``query``; InputError (422) otherwise."""
    bad = InputError("cursor is not valid for this list: pass back next_cursor unchanged")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise bad from exc
    if not isinstance(data, dict) or data.get("q") != query or "k" not in data:
        raise bad
    run_id = data.get("r")
    if run_id is not None and not isinstance(run_id, str):
        raise bad
    return run_id, data["k"]
