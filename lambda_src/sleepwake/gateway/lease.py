"""Leases: "keep this endpoint awake until T", held by whoever asked (a token's name or an IAM principal).

Each holder has its own lease: extending and releasing act on the caller's lease only, and the endpoint stays
up while any lease is active. On the endpoint record (`endpoint#<name>`):

* `leases`: map holder -> expiry (epoch seconds), only unexpired entries (expired ones are dropped on every write);
* `lease_until`: the latest expiry in `leases`; the only lease attribute the manager reads (`domain.lifecycle`);
* `lease_version`: a counter bumped by every lease write; the manager never reads or writes it.

Every change is one conditional UpdateItem on `lease_version` and `lease_until` as read (`StateStore.write_leases`):
concurrent changes by different holders all count (a lost race reads again). Extending counts from now when the
caller's lease has expired (not from the past expiry), and no lease reaches further than the configured maximum
window from now. A caller without an identity (no authorization configured) is the holder "anonymous"; a lease
written before leases had holders (a bare `lease_until`) is kept as the holder "unattributed" until it expires.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sleepwake.aws.store import LeaseState, StateStore
from sleepwake.common.clock import Clock
from sleepwake.common.parsing import clip, echo
from sleepwake.common.timefmt import iso

# Holders race on one item: retries back off with jitter, so 50 simultaneous extensions all land. Beyond that
# the caller gets 503 + Retry-After (LeaseContention), never a 500.
MAX_ATTEMPTS = 40
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.25
CONTENTION_RETRY_SECONDS = 1
MAX_HOLDERS = 64  # active leases on one endpoint; keeps the record far below DynamoDB's 400 KB item limit
MAX_HOLDER_CHARS = 2048  # an IAM ARN at its longest
ANONYMOUS = "anonymous"
UNATTRIBUTED = "unattributed"


class LeaseError(ValueError):
    """A bad lease request; the message names the problem."""

    status = 400


class TooManyHolders(LeaseError):
    status = 409


class LeaseContention(RuntimeError):
    """The lease kept changing under us; retry after `retry_after_seconds`."""

    retry_after_seconds = CONTENTION_RETRY_SECONDS


def validate_minutes(body: Any, max_minutes: int) -> int:
    """The `minutes` of a `{"minutes": N}` request: a whole number 1..max. 30.0 is whole; 30.5, true and "30" are
    not (true/false are not numbers)."""
    if not isinstance(body, dict):
        raise LeaseError('the body must be a JSON object such as {"minutes": 30}')
    unknown = sorted(set(body) - {"minutes"})
    if unknown:
        raise LeaseError(f'unknown field(s): {clip(", ".join(map(str, unknown)))}; only "minutes" is accepted')
    if "minutes" not in body:
        raise LeaseError('"minutes" is required, e.g. {"minutes": 30}')
    minutes = body["minutes"]
    if isinstance(minutes, float) and minutes.is_integer():
        minutes = int(minutes)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise LeaseError(f'"minutes" must be a whole number, got {echo(minutes, as_json=True)}')
    if not 1 <= minutes <= max_minutes:
        raise LeaseError(f'"minutes" must be between 1 and {max_minutes}, got {echo(minutes)}')
    return minutes


def holder_of(caller: str | None) -> str:
    """The lease holder for a request's caller: the token's name or IAM principal, else "anonymous"."""
    if caller is None or caller == "":
        return ANONYMOUS
    if len(caller) > MAX_HOLDER_CHARS:
        raise LeaseError(
            f"the caller's identity is {len(caller)} characters; at most {MAX_HOLDER_CHARS} can hold a lease"
        )
    return caller


def extended_until(current: float | None, now: float, minutes: int, max_minutes: int) -> float:
    """max(now, current expiry) + minutes, never beyond now + the maximum window."""
    start = now if current is None or current < now else current
    return min(start + minutes * 60, now + max_minutes * 60)


def active_leases(state: LeaseState, now: float) -> dict[str, float]:
    """The unexpired leases; a bare `lease_until` from before leases had holders counts as "unattributed"."""
    leases = dict(state.leases)
    if not leases and state.lease_until is not None:
        leases[UNATTRIBUTED] = state.lease_until
    return {holder: until for holder, until in leases.items() if until > now}


@dataclass(frozen=True)
class LeaseView:
    """The caller's lease and the endpoint's latest expiry, as GET/POST/DELETE /lease answer them."""

    endpoint_name: str
    holder: str
    until: float | None  # the caller's lease
    latest: float | None  # the latest expiry across holders: the endpoint is kept awake until then
    holders: int  # active leases, the caller's included
    now: float

    @property
    def active(self) -> bool:
        return self.until is not None and self.until > self.now

    def answer(self) -> dict[str, Any]:
        endpoint_active = self.latest is not None and self.latest > self.now
        return {
            "endpoint_name": self.endpoint_name,
            "holder": self.holder,
            "active": self.active,
            "expires_at": iso(self.until) if self.active else None,
            "seconds_left": int(self.until - self.now) if self.active else 0,
            "endpoint_lease": {
                "active": endpoint_active,
                "expires_at": iso(self.latest) if endpoint_active else None,
                "seconds_left": int(self.latest - self.now) if endpoint_active else 0,
                "holders": self.holders,
            },
        }


def _view(name: str, holder: str, leases: Mapping[str, float], now: float) -> LeaseView:
    return LeaseView(name, holder, leases.get(holder), max(leases.values(), default=None), len(leases), now)


class LeaseService:
    def __init__(
        self, store: StateStore, clock: Clock, max_minutes: int, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_minutes = max_minutes
        self.sleep = sleep

    def view(self, name: str, caller: str | None = None) -> LeaseView:
        holder = holder_of(caller)
        now = self.clock.now()
        return _view(name, holder, active_leases(self.store.read_leases(name), now), now)

    def extend(self, name: str, minutes: int, caller: str | None = None) -> tuple[LeaseView, bool]:
        """Extend the caller's lease; returns it and whether the maximum window capped it."""
        holder = holder_of(caller)
        for attempt in range(MAX_ATTEMPTS):
            seen = self.store.read_leases(name)
            now = self.clock.now()
            leases = active_leases(seen, now)
            current = leases.get(holder)
            if current is None and len(leases) >= MAX_HOLDERS:
                raise TooManyHolders(
                    f"{name} already has {len(leases)} active leases, the most one endpoint keeps; "
                    "wait for one to end, or share a lease between callers"
                )
            until = extended_until(current, now, minutes, self.max_minutes)
            capped = until < max(now, current or now) + minutes * 60
            if current is not None and until <= current:
                return _view(name, holder, leases, now), True  # already at the cap: nothing to write
            leases[holder] = until
            if self.store.write_leases(name, leases, seen=seen):
                return _view(name, holder, leases, now), capped
            self._back_off(attempt)
        raise LeaseContention(
            f"{name}: the leases changed {MAX_ATTEMPTS} times while extending yours; retry in "
            f"{CONTENTION_RETRY_SECONDS} s"
        )

    def release(self, name: str, caller: str | None = None) -> tuple[LeaseView, bool]:
        """End the caller's lease (others' leases stay); returns the view after and whether there was one."""
        holder = holder_of(caller)
        for attempt in range(MAX_ATTEMPTS):
            seen = self.store.read_leases(name)
            now = self.clock.now()
            leases = active_leases(seen, now)
            released = leases.pop(holder, None) is not None
            if not released:
                return _view(name, holder, leases, now), False  # no lease of the caller's: nothing changes
            if self.store.write_leases(name, leases, seen=seen):
                return _view(name, holder, leases, now), released
            self._back_off(attempt)
        raise LeaseContention(
            f"{name}: the leases changed {MAX_ATTEMPTS} times while releasing yours; retry in "
            f"{CONTENTION_RETRY_SECONDS} s"
        )

    def _back_off(self, attempt: int) -> None:
        self.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))
