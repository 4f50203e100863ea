"""Sliding-window rate limits, kept in memory (one web app process)."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Deque, Dict

from .settings import RateLimit

Clock = Callable[[], float]


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window_s`` seconds."""

    def __init__(self, rule: RateLimit, clock: Clock = time.monotonic, max_keys: int = 50_000):
        self.limit = rule.limit
        self.window_s = rule.window_s
        self._clock = clock
        self._max_keys = max_keys
        self._hits: Dict[str, Deque[float]] = {}

    def _recent(self, key: str, now: float) -> Deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may send again; 0 when it may now."""
        now = self._clock()
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return 0
        return max(1, math.ceil(hits[0] + self.window_s - now))

    def record(self, key: str) -> None:
        now = self._clock()
        if key not in self._hits and len(self._hits) >= self._max_keys:
            self._forget_idle(now)
        self._hits.setdefault(key, deque()).append(now)

    def _forget_idle(self, now: float) -> None:
        for key in list(self._hits):
            self._recent(key, now)
        while len(self._hits) >= self._max_keys:  # still full: drop the oldest keys
            del self._hits[next(iter(self._hits))]
