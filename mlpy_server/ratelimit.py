"""Rate limiting per client: token buckets keyed by API key or address."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Token buckets per client key: `rate` tokens per second, `burst` at most."""

    def __init__(self, per_minute: int, burst: int | None,
                 clock: Callable[[], float] = time.monotonic):
        self._clock = clock               # injectable: tests move time instead of sleeping
        self.rate = per_minute / 60.0
        self.burst = float(burst or per_minute)
        self._buckets: dict[str, list[float]] = {}

    def check(self, key: str) -> float:
        """0 if allowed (a token is taken), else the seconds until one is available."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10000:
                self._prune(now)
            bucket = self._buckets[key] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = self.burst / self.rate if self.rate else 0
        for key, (_tokens, at) in list(self._buckets.items()):
            if now - at > full:
                del self._buckets[key]
