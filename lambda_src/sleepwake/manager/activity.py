"""Record that an endpoint is in use, from app code, without a DynamoDB write on every request.

    from sleepwake.manager.activity import ActivityRecorder
    recorder = ActivityRecorder("sleepwake-dev-state")
    recorder.begin("my-endpoint", max_seconds=60)   # before invoke_endpoint: the request is in flight
    ...invoke_endpoint...
    recorder.end("my-endpoint")                     # after it, whatever the outcome

`begin` writes the endpoint's in-flight mark (`busy_until`) before the request is sent, so the manager never
deletes the endpoint under a running request: not at the tick, and not through a sleep decided a moment earlier
(its commit is conditioned on the mark). It refuses, with `EndpointGoingToSleep`, once a sleep is committed.
A mark covers `max_seconds` plus a margin plus `coalesce_seconds`, so one write serves every request that starts
within `coalesce_seconds` of it. `end` (and `record`) move `last_activity` forward, coalesced the same way: the
recorded time can lag by up to `coalesce_seconds`, well below any idle timeout (default 30 s vs 15 min).
Every call is counted: the requests seen since the last write go with the next one (the idle policy's volume).
"""

from __future__ import annotations

import logging
import os
import threading

from sleepwake.aws.store import StateStore
from sleepwake.common.clock import Clock, SystemClock
from sleepwake.common.observability import get_logger, log_event

log = get_logger("activity")
DEFAULT_COALESCE_SECONDS = 30.0
# Time a caller needs around the model call itself (its own reads and writes, clock skew between functions).
REQUEST_MARGIN_SECONDS = 15.0


class EndpointGoingToSleep(RuntimeError):
    """The endpoint's sleep is committed and its delete is pending: a request must not start on it."""


class ActivityRecorder:
    def __init__(
        self, table_name: str, *, coalesce_seconds: float = DEFAULT_COALESCE_SECONDS, clock: Clock | None = None
    ) -> None:
        if coalesce_seconds < 0:
            raise ValueError("coalesce_seconds must be >= 0")
        self.store = StateStore(table_name)
        self.coalesce_seconds = coalesce_seconds
        self.clock = clock or SystemClock()
        self._written: dict[str, float] = {}
        self._busy_until: dict[str, float] = {}
        self._unsent: dict[str, int] = {}  # requests not yet added to the endpoint's request_count
        self._lock = threading.Lock()

    def begin(self, endpoint_name: str, max_seconds: float) -> None:
        """Mark a request that may run `max_seconds` as in flight, before it is sent.

        Raises `EndpointGoingToSleep` when a sleep is committed (wake the endpoint instead), and lets AWS errors
        through: a request must not be sent without its mark."""
        now = self.clock.now()
        needed = now + max_seconds + REQUEST_MARGIN_SECONDS
        with self._lock:
            if self._busy_until.get(endpoint_name, 0.0) >= needed:
                return  # our own earlier mark covers this request; sleeps cannot commit before it expires
        until = needed + self.coalesce_seconds
        if self.store.mark_busy(endpoint_name, until) == "deleting":
            raise EndpointGoingToSleep(f"endpoint {endpoint_name} is being put to sleep")
        with self._lock:
            self._busy_until[endpoint_name] = max(until, self._busy_until.get(endpoint_name, 0.0))

    def end(self, endpoint_name: str) -> bool:
        """The request finished: its time is activity (coalesced; never raises)."""
        return self.record(endpoint_name)

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
        except Exception as exc:
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
