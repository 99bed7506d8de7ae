"""Property tests of the manager's safety rules over random interleavings (issue 10).

Each example is a random sequence of operations on one endpoint, on a simulated clock: requests with durations
(marked in flight exactly as the gateway does), wakes, queued (respond-async) requests, leases and their release,
the protect tag switched on and off, ticks, SageMaker state-change events, throttled DeleteEndpoint /
CreateEndpoint / CloudWatch calls, and operations forced into the window between a decision's commit and its
SageMaker call (the fake SageMaker runs them just before it carries out a create or a delete). The state table is
DynamoDB (moto), so the conditional writes that carry the guarantees are the real ones.

Checked on every DeleteEndpoint: no request in flight, no lease and no protection that existed when the sleep was
committed, never within the grace period after InService. On every CreateEndpoint: the endpoint does not exist
(never two creates for one wake). At the end, once faults stop and time passes: every wake, lease and queued
request was followed by the endpoint serving (nothing is lost), and the manager never billed more than the
endpoint existed.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from conftest import CONFIG, TABLE
from sleepwake.aws import clients as aws
from sleepwake.aws.notify import Notifier
from sleepwake.aws.store import StateStore
from sleepwake.domain.lifecycle import Observed
from sleepwake.domain.settings import EndpointSpec, Settings
from sleepwake.gateway.lease import LeaseService
from sleepwake.manager.activity import ActivityRecorder, EndpointGoingToSleep
from sleepwake.manager.service import Manager
from sleepwake_sim.doubles import FakeClock
from sleepwake_sim.emulator import create_state_table

pytestmark = pytest.mark.slow  # Hypothesis: 100 sequences of up to 30 operations

WAKE = 300
DELETE = 60
GRACE = 120
MAX_REQUEST = 60
# Examples per CI run (each up to MAX_OPERATIONS operations); SLEEPWAKE_PROPERTY_EXAMPLES explores more locally.
EXAMPLES = int(os.environ.get("SLEEPWAKE_PROPERTY_EXAMPLES", "100"))
MAX_OPERATIONS = 30
_names = itertools.count()


class Violation(AssertionError):
    """Raised by the fake SageMaker, and also kept in `World.violations`: the manager's tick reports and survives
    any exception, so a raised violation alone could go unnoticed."""


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)


@dataclass
class Life:
    created_at: float
    in_service_at: float
    deleted_at: float | None = None


@dataclass
class World:
    """The fake SageMaker (timings, tags, faults) and the model of everything outside the manager."""

    name: str
    clock: FakeClock
    lives: list[Life] = field(default_factory=list)
    protected: bool = False
    protected_seq: int = 0
    in_flight: list[tuple[float, ActivityRecorder]] = field(default_factory=list)  # (end, recorder)
    lease_seq: int = -1
    sleep_commit_seq: int = -1
    seq: int = 0
    wants: list[float] = field(default_factory=list)  # times of wakes, leases and queued requests
    faults: set[str] = field(default_factory=set)
    window: list = field(default_factory=list)  # operations to run inside the next create/delete
    store: StateStore | None = None
    violations: list[str] = field(default_factory=list)

    def violated(self, what: str) -> Violation:
        self.violations.append(f"{what} (at {self.clock.now()})")
        return Violation(what)

    # ---- SageMaker as the manager sees it --------------------------------------------------------------------
    def _life(self) -> Life | None:
        return self.lives[-1] if self.lives else None

    def status(self) -> str | None:
        life, now = self._life(), self.clock.now()
        if life is None:
            return None
        if life.deleted_at is not None:
            return "Deleting" if now < life.deleted_at + DELETE else None
        return "Creating" if now < life.in_service_at else "InService"

    def describe(self, name: str) -> Observed | None:
        status = self.status()
        if status is None:
            return None
        life = self._life()
        modified = life.in_service_at if status == "InService" else (life.deleted_at or life.created_at)
        return Observed(status, CONFIG, created_at=life.created_at, last_modified_at=modified)

    def list_all(self) -> dict[str, Observed]:
        observed = self.describe(self.name)
        return {self.name: observed} if observed else {}

    def tags(self, name: str) -> dict[str, str]:
        return {"sleepwake:protected": "true"} if self.protected and self.status() else {}

    def instance_of(self, config: str):
        return "ml.g4dn.xlarge", 1

    def _in_window(self) -> None:
        while self.window:
            self.window.pop(0)()

    def create(self, name, config, tags, *, mark_managed=True) -> bool:
        self._in_window()
        if "create" in self.faults:
            self.faults.discard("create")
            raise throttled("CreateEndpoint")
        if self.status() is not None:
            raise self.violated(f"CreateEndpoint while the endpoint is {self.status()}")
        now = self.clock.now()
        self.lives.append(Life(now, now + WAKE))
        return True

    def delete(self, name) -> bool:
        self._in_window()
        if "delete" in self.faults:
            self.faults.discard("delete")
            raise throttled("DeleteEndpoint")
        status, now, life = self.status(), self.clock.now(), self._life()
        if status is None:
            return False
        if status == "Deleting":
            return True
        if self.in_flight:
            raise self.violated(f"DeleteEndpoint with {len(self.in_flight)} request(s) in flight")
        lease = self.store.get(self.name).lease_until
        if lease is not None and lease > now and self.lease_seq < self.sleep_commit_seq:
            raise self.violated("DeleteEndpoint under a lease granted before the sleep")
        if self.protected and self.protected_seq < self.sleep_commit_seq:
            raise self.violated("DeleteEndpoint of a protected endpoint")
        if status == "InService" and now < life.in_service_at + GRACE:
            raise self.violated("DeleteEndpoint within the grace period")
        life.deleted_at = now
        return True

    def existed_seconds(self) -> float:
        now = self.clock.now()
        return sum((life.deleted_at if life.deleted_at is not None else now) - life.created_at for life in self.lives)

    def served_after(self, when: float) -> bool:
        return any(
            life.in_service_at <= self.clock.now()
            and (life.deleted_at is None or life.deleted_at > max(when, life.in_service_at))
            for life in self.lives
        )


class FlakyActivity:
    """CloudWatch that knows no invocations (requests are recorded by the gateway), and sometimes throttles."""

    def __init__(self, world: World) -> None:
        self.world = world

    def latest(self, names, now, variants=None):
        if "activity" in self.world.faults:
            self.world.faults.discard("activity")
            raise throttled("GetMetricData")
        return {}


class Harness:
    def __init__(self, policy: str) -> None:
        self.clock = FakeClock()
        self.name = f"prop-{next(_names)}"
        self.store = StateStore(TABLE)
        self.world = World(self.name, self.clock, store=self.store)
        spec = EndpointSpec(self.name, CONFIG, "ml.g4dn.xlarge")
        self.settings = Settings(
            table_name=TABLE,
            endpoints={self.name: spec},
            idle_timeout_seconds=120,
            min_in_service_seconds=GRACE,
            wake_estimate_seconds=WAKE,
            policy=policy,
        )
        self.manager = Manager(
            self.settings, self.store, self.world, Notifier(None), self.clock, FlakyActivity(self.world)
        )
        self.recorders = [ActivityRecorder(TABLE, clock=self.clock) for _ in range(2)]
        self.leases = LeaseService(self.store, self.clock, 240)
        real_commit = self.store.commit

        def commit(old, new, **kwargs):
            done = real_commit(old, new, **kwargs)
            if done and new.deleting_since is not None and old.deleting_since is None:
                self.world.sleep_commit_seq = self.world.seq
            return done

        self.store.commit = commit

    def start_awake(self) -> None:
        """Every example starts from an endpoint that just became ready: sleeps (and their windows) come soon."""
        self.manager.wake(self.name)
        self.op_advance(WAKE // 60 + 1)
        self.world.wants.clear()

    # ---- operations ----------------------------------------------------------------------------------------------
    def run(self, operation: tuple) -> None:
        self.world.seq += 1
        kind, *args = operation
        getattr(self, f"op_{kind}")(*args)

    def op_advance(self, minutes: int) -> None:
        """Time passes with the schedule's tick on every whole minute, as deployed (requests started between two
        ticks may still be running at the next one)."""
        for _ in range(minutes):
            self.op_wait(60 - int(self.clock.now()) % 60)
            self.manager.tick()

    def op_wait(self, seconds: int) -> None:
        target = self.clock.now() + seconds
        for end, recorder in sorted(self.world.in_flight, key=lambda r: r[0]):
            if end > target:
                break
            self.clock.set(end)
            self.world.in_flight.remove((end, recorder))
            recorder.end(self.name)
        self.clock.set(target)

    def op_tick(self) -> None:
        self.manager.tick()

    def op_event(self) -> None:
        self._tolerant(lambda: self.manager.on_state_change(self.name, self.world.status()))

    def op_wake(self) -> None:
        self.world.wants.append(self.clock.now())
        self._tolerant(lambda: self.manager.wake(self.name))

    def op_request(self, duration: int, which: int, tick_during: bool = False) -> None:
        """What the gateway does: mark in flight, invoke; not serving (or going to sleep) -> wake. With
        `tick_during`, a tick lands while the request runs (the window of a long request and the schedule)."""
        recorder = self.recorders[which]
        try:
            recorder.begin(self.name, MAX_REQUEST)
        except EndpointGoingToSleep:
            return self.op_wake()
        if self.world.status() == "InService":
            self.world.in_flight.append((self.clock.now() + duration, recorder))
            if tick_during and duration > 1:
                self.op_wait(duration // 2)
                self.manager.tick()
        else:
            recorder.end(self.name)
            self.op_wake()

    def op_request_before_sleep(self, offset: int, duration: int, which: int) -> None:
        """The adversary times a request: `offset` seconds before the sleep that `status` announces."""
        status = self.manager.status(self.name)
        if status["state"] != "ready" or status["sleeps_at"] is None:
            return
        sleeps_at = datetime.fromisoformat(status["sleeps_at"].replace("Z", "+00:00")).timestamp()
        if sleeps_at - offset > self.clock.now():
            self.op_wait(int(sleeps_at - offset - self.clock.now()))
        self.op_request(duration, which)
        self.op_advance(1)

    def op_queued(self) -> None:
        """Prefer: respond-async: wake, and the request waits in the queue until the endpoint serves."""
        self.op_wake()

    def op_lease(self, minutes: int, holder: int) -> None:
        """What POST /lease does: extend the holder's lease, then wake."""
        self.leases.extend(self.name, minutes, caller=f"token:app-{holder}")
        self.world.lease_seq = self.world.seq
        self.world.wants.append(self.clock.now())
        self._tolerant(lambda: self.manager.wake(self.name))

    def op_release(self, holder: int) -> None:
        self.leases.release(self.name, caller=f"token:app-{holder}")

    def op_protect(self, on: bool) -> None:
        self.world.protected, self.world.protected_seq = on, self.world.seq

    def op_fault(self, what: str) -> None:
        self.world.faults.add(what)

    def op_window(self, inner: tuple) -> None:
        self.world.window.append(lambda: self.run(inner))

    def _tolerant(self, action) -> None:
        try:
            action()
        except ClientError as exc:  # an injected throttle: the caller retries later (the gateway answers 503)
            assert aws.error_code(exc) == "ThrottlingException", exc

    # ---- the end: faults stop, requests finish, time passes -------------------------------------------------------
    def settle(self) -> None:
        self.world.faults.clear()
        self.world.window.clear()
        self.op_wait(MAX_REQUEST + 1)
        for _ in range((WAKE + 2 * DELETE + 2 * GRACE) // 60 + 4):
            self.op_advance(1)
            if all(self.world.served_after(t) for t in self.world.wants):
                break


REQUEST = st.tuples(st.just("request"), st.integers(1, MAX_REQUEST), st.integers(0, 1), st.booleans())
INNER = st.one_of(
    st.tuples(st.just("wake")),
    st.tuples(st.just("tick")),
    st.tuples(st.just("event")),
    st.tuples(st.just("queued")),
    REQUEST,
    st.tuples(st.just("lease"), st.integers(1, 5), st.integers(0, 1)),
    st.tuples(st.just("protect"), st.booleans()),
)
# Weighted towards what makes sleeps happen (time passing with the minute tick, requests) so that the windows
# around a delete are reached often.
OPERATIONS = st.one_of(
    *[st.tuples(st.just("advance"), st.integers(1, 6))] * 4,
    st.tuples(st.just("wait"), st.integers(1, 59)),
    *[REQUEST] * 3,
    *[st.tuples(st.just("request_before_sleep"), st.integers(1, 59), st.integers(1, MAX_REQUEST), st.integers(0, 1))]
    * 2,
    st.tuples(st.just("tick")),
    st.tuples(st.just("event")),
    st.tuples(st.just("wake")),
    st.tuples(st.just("queued")),
    st.tuples(st.just("lease"), st.integers(1, 5), st.integers(0, 1)),
    st.tuples(st.just("release"), st.integers(0, 1)),
    st.tuples(st.just("protect"), st.booleans()),
    st.tuples(st.just("fault"), st.sampled_from(["delete", "create", "activity"])),
    *[st.tuples(st.just("window"), INNER)] * 2,
)


@pytest.fixture(scope="module")
def table():
    with mock_aws():
        aws.reset_clients()
        create_state_table(TABLE)
        quiet = logging.getLogger("sleepwake")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        yield TABLE
        quiet.setLevel(level)
    aws.reset_clients()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    policy=st.sampled_from(["fixed", "adaptive", "breakeven"]),
    operations=st.lists(OPERATIONS, min_size=5, max_size=MAX_OPERATIONS),
)
def test_no_interleaving_breaks_the_safety_rules(table, policy, operations):
    harness = Harness(policy)
    try:
        harness.start_awake()
        for operation in operations:
            harness.run(operation)
        harness.settle()
        check(harness)
    finally:
        # Each example's record goes, so that every tick's scan reads one record, not every earlier example's.
        aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": f"endpoint#{harness.name}"}})


def check(harness: Harness) -> None:
    world = harness.world
    assert world.violations == []
    for wanted_at in world.wants:
        assert world.served_after(wanted_at), f"a wake, lease or queued request at {wanted_at} was never served"
    record = harness.store.get(harness.name)
    assert record.billed_seconds_until(harness.clock.now()) <= world.existed_seconds() + 1e-6
