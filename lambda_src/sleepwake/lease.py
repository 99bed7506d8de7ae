"""Leases: "keep this endpoint awake until T", on the endpoint record's `lease_until`.

While a lease is active the manager keeps the endpoint awake and creates it if it is asleep (`sleepwake.core`).
Extending counts from now when the lease has expired (not from the past expiry), and no lease reaches further
than the configured maximum window from now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .manager import iso
from .store import StateStore

MAX_ATTEMPTS = 6


class LeaseError(ValueError):
    """A bad lease request; the message names the problem."""


def validate_minutes(body: Any, max_minutes: int) -> int:
    """The `minutes` of a `{"minutes": N}` request: a whole number 1..max (true/false are not numbers)."""
    if not isinstance(body, dict):
        raise LeaseError('the body must be a JSON object such as {"minutes": 30}')
    unknown = sorted(set(body) - {"minutes"})
    if unknown:
        raise LeaseError(f"unknown field(s): {', '.join(map(str, unknown))}; only \"minutes\" is accepted")
    if "minutes" not in body:
        raise LeaseError('"minutes" is required, e.g. {"minutes": 30}')
    minutes = body["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise LeaseError(f'"minutes" must be a whole number, got {_show(minutes)}')
    if not 1 <= minutes <= max_minutes:
        raise LeaseError(f'"minutes" must be between 1 and {max_minutes}, got {minutes}')
    return minutes


def _show(value: Any) -> str:
    return json.dumps(value, default=str)


def extended_until(current: float | None, now: float, minutes: int, max_minutes: int) -> float:
    """max(now, current expiry) + minutes, never beyond now + the maximum window."""
    start = now if current is None or current < now else current
    return min(start + minutes * 60, now + max_minutes * 60)


@dataclass(frozen=True)
class LeaseView:
    endpoint_name: str
    until: float | None
    now: float

    @property
    def active(self) -> bool:
        return self.until is not None and self.until > self.now

    def answer(self) -> dict[str, Any]:
        return {
            "endpoint_name": self.endpoint_name,
            "active": self.active,
            "expires_at": iso(self.until) if self.active else None,
            "seconds_left": int(self.until - self.now) if self.active else 0,
        }


class LeaseService:
    def __init__(self, store: StateStore, clock: Clock, max_minutes: int) -> None:
        self.store = store
        self.clock = clock
        self.max_minutes = max_minutes

    def view(self, name: str) -> LeaseView:
        return LeaseView(name, self.store.get(name).lease_until, self.clock.now())

    def extend(self, name: str, minutes: int) -> tuple[LeaseView, bool]:
        """Returns the new lease and whether the maximum window capped it. Concurrent extensions both count:
        the write is conditioned on the expiry read, and a lost race reads again."""
        for _ in range(MAX_ATTEMPTS):
            current = self.store.get(name).lease_until
            now = self.clock.now()
            until = extended_until(current, now, minutes, self.max_minutes)
            capped = until < max(now, current or now) + minutes * 60
            if current is not None and until <= current:
                return LeaseView(name, current, now), True  # already at the cap: nothing to write
            if self.store.set_lease(name, until, expected=current):
                return LeaseView(name, until, now), capped
        raise RuntimeError(f"{name}: the lease changed {MAX_ATTEMPTS} times while extending it; try again")

    def release(self, name: str) -> bool:
        return self.store.clear_lease(name)
