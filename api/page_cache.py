"""A per-worker cache of rendered feed pages, keyed on the snapshot they come from.

A risk snapshot never changes once stored, so a page of the churn feed or of a signal
list is fully determined by ``(route, run_id, parameters)``: a newer fit has a new run id
and therefore new keys, so risk figures are never served stale. The evidence texts
attached to signal rows are read from ``documents`` and may gain a newly ingested text;
entries therefore also expire after ``ttl_s`` seconds (UNDERTOW_API_CACHE_SECONDS,
default 30; 0 turns the cache off). Each worker keeps its own cache (bounded in bytes);
nothing is shared, so workers stay stateless with respect to each other.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable


class PageCache:
    def __init__(self, ttl_s: float = 30.0, max_bytes: int = 64 << 20) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[float, bytes, dict[str, str]]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: Hashable) -> tuple[bytes, dict[str, str]] | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1], entry[2]

    def put(self, key: Hashable, body: bytes, headers: dict[str, str] | None = None) -> None:
        if not self.enabled or len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = (time.monotonic() + self.ttl_s, body, dict(headers or {}))
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped, _) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
