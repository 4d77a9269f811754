"""Per-client token buckets: a client may send a burst at once, then requests at the configured rate."""

from __future__ import annotations

import threading
import time

# Past this many tracked clients, buckets that have refilled completely are forgotten: such a client
# is indistinguishable from a new one, so memory stays bounded whatever addresses call.
_MAX_TRACKED = 10_000


class RateLimiter:
    """One token bucket per client, holding up to ``burst`` tokens and refilled at ``per_second``; thread-safe."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token of ``client``'s bucket: 0 when allowed, else the seconds until one is back."""
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return (1 - tokens) / self.per_second
            if len(self._buckets) >= _MAX_TRACKED and client not in self._buckets:
                self._forget_full(now)
            self._buckets[client] = (tokens - 1, now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.per_second
        for client, (_, then) in list(self._buckets.items()):
            if now - then >= refill:
                del self._buckets[client]
