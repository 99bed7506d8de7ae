"""Record that an endpoint is in use, from app code, without a DynamoDB write on every request.

    from sleepwake.activity import record_activity
    record_activity("my-endpoint")   # after each successful invoke_endpoint

Writes are coalesced per process: at most one every `coalesce_seconds` per endpoint. The recorded time can
therefore lag by up to that much, which is why it must stay well below the idle timeout (default 30 s vs 15 min).
Every call is counted: the requests seen since the last write go with the next one (the idle policy's volume).
"""

from __future__ import annotations

import logging
import os
import threading

from .clock import Clock, SystemClock
from .observability import get_logger, log_event
from .store import StateStore

log = get_logger("activity")
DEFAULT_COALESCE_SECONDS = 30.0


class ActivityRecorder:
    def __init__(self, table_name: str, *, coalesce_seconds: float = DEFAULT_COALESCE_SECONDS,
                 clock: Clock | None = None) -> None:
        if coalesce_seconds < 0:
            raise ValueError("coalesce_seconds must be >= 0")
        self.store = StateStore(table_name)
        self.coalesce_seconds = coalesce_seconds
        self.clock = clock or SystemClock()
        self._written: dict[str, float] = {}
        self._unsent: dict[str, int] = {}  # requests not yet added to the endpoint's request_count
        self._lock = threading.Lock()

    def record(self, endpoint_name: str) -> bool:
        """Returns True when this call wrote to DynamoDB. Never raises: activity is advisory for the app."""
        now = self.clock.now()
        with self._lock:
            count = self._unsent.get(endpoint_name, 0) + 1
            self._unsent[endpoint_name] = count
            last = self._written.get(endpoint_name)
            if last is not None and now - last < self.coalesce_seconds:
                return False
            self._written[endpoint_name] = now
            self._unsent[endpoint_name] = 0
        try:
            self.store.record_activity(endpoint_name, now)
            self.store.add_requests(endpoint_name, count)
        except Exception as exc:  # noqa: BLE001 - the app's request must not fail because of bookkeeping
            with self._lock:
                self._written.pop(endpoint_name, None)
                self._unsent[endpoint_name] = self._unsent.get(endpoint_name, 0) + count
            log_event(log, "could not record activity", logging.WARNING, endpoint_name=endpoint_name, error=str(exc))
            return False
        return True


_default: ActivityRecorder | None = None


def record_activity(endpoint_name: str) -> bool:
    """Record activity using SLEEPWAKE_TABLE_NAME from the environment."""
    global _default
    if _default is None:
        table = os.environ.get("SLEEPWAKE_TABLE_NAME", "").strip()
        if not table:
            raise RuntimeError("SLEEPWAKE_TABLE_NAME is not set: cannot record activity")
        _default = ActivityRecorder(table)
    return _default.record(endpoint_name)
