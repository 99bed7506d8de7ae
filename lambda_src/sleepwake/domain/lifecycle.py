"""The sleep/wake state machine: pure functions of the recorded state, the observed SageMaker status and the time.

Nothing here talks to AWS or reads a clock. `decide` returns a `Plan`: the record to commit, the effects to carry
out once the commit succeeded, and the answer. The service layer (`sleepwake.manager.service`) reads, decides, commits
with a conditional write and acts, so tests, the simulator and the demo drive exactly this code through states
and timings no emulator produces.

Every SageMaker endpoint status is handled on purpose:

| status | state | what the manager does |
| --- | --- | --- |
| absent | asleep / waking | create when a wake, a lease or a pending wake wants it (one claim wins) |
| Creating | waking | wait; never delete |
| Updating, SystemUpdating | ready | serving; wait, never delete mid-update |
| RollingBack | ready | serving the old configuration; wait |
| InService | ready | apply the idle rule; sleep when it says so and every safety check passes |
| Deleting | sleeping / waking | wait; create once it is gone if a wake is pending |
| Failed | failed | delete, then recreate after an exponential backoff; give up after N tries; notify |
| OutOfService | failed | report, notify; no automatic delete (SageMaker may recover it); `sleep` with force deletes |
| UpdateRollbackFailed | failed | serving a mix of configurations: report and notify; `sleep` with force deletes |
| anything else | failed | report; take no action |
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import Any

from sleepwake.domain import usage
from sleepwake.domain.policy import SLEEP as SLEEP_NOW
from sleepwake.domain.policy import WAKE as WAKE_NOW
from sleepwake.domain.policy import Decision, IdleHistory, PolicyConfig
from sleepwake.domain.policy import decide as decide_idle
from sleepwake.domain.pricing import known_price
from sleepwake.domain.schedule import KeepWarm
from sleepwake.domain.settings import EndpointSpec, Settings

ASLEEP, WAKING, READY, SLEEPING, FAILED = "asleep", "waking", "ready", "sleeping", "failed"

SERVING_STATUSES = frozenset({"InService", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"})
BUSY_STATUSES = frozenset({"Updating", "SystemUpdating", "RollingBack"})
# Never delete an endpoint within this long of its latest activity: a real-time invocation may run for up to 60 s.
# The simulator's requests arrive at the start of their minute and its ticks come a minute apart, so this guard
# never binds there: what is simulated is still what is deployed.
IN_FLIGHT_GUARD_SECONDS = 60
# Extra time a wake that must first wait for a deletion takes, beyond the wake estimate.
DELETE_ESTIMATE_SECONDS = 60
MIN_RETRY_AFTER_SECONDS = 5


# Errors and failure reasons that mean "no capacity for this instance type now" or "the account's limit for it":
# another instance type may well be available. Anything else (a bad image, a model that fails its health check)
# would fail on every type, so it does not fall back.
CAPACITY_ERROR_CODES = frozenset(
    {"ResourceLimitExceeded", "InsufficientInstanceCapacity", "InsufficientCapacity", "InsufficientCapacityException"}
)
_CAPACITY_RE = re.compile(
    r"insufficient\W*(instance\W*)?capacity|sufficient capacity|provision requested ml compute capacity"
    r"|resourcelimitexceeded|resource limit exceeded|account-level service limit|service quota",
    re.IGNORECASE,
)


def is_capacity_failure(code: str | None, message: str | None) -> bool:
    """True when a CreateEndpoint error (`code`) or a Failed endpoint's FailureReason (`message`) says the instance
    type had no capacity or hit an account limit."""
    return (code or "") in CAPACITY_ERROR_CODES or bool(_CAPACITY_RE.search(message or ""))


class Intent(str, Enum):
    WAKE = "wake"
    SLEEP = "sleep"
    STATUS = "status"
    TICK = "tick"  # the schedule, and SageMaker state-change events


@dataclass(frozen=True)
class Observed:
    """What DescribeEndpoint said; `None` stands for an absent endpoint."""

    status: str
    endpoint_config_name: str | None = None
    failure_reason: str | None = None
    created_at: float | None = None
    last_modified_at: float | None = None


@dataclass(frozen=True)
class Record:
    """The manager's memory of one endpoint (DynamoDB item `endpoint#<name>`).

    `last_activity` and `lease_until` are written by others (apps, the gateway) without touching `version`;
    everything else is the manager's and changes only through a commit conditioned on `version`.
    """

    endpoint_name: str
    version: int = 0
    desired: str = "asleep"  # "awake": create it whenever it is absent; "asleep": leave it absent
    last_activity: float | None = None
    lease_until: float | None = None
    wake_requested_at: float | None = None
    create_claimed_at: float | None = None
    wake_started_at: float | None = None  # start of the current billed period
    in_service_since: float | None = None
    sleep_started_at: float | None = None
    last_status: str | None = None
    failures: int = 0
    next_retry_at: float | None = None
    gave_up: bool = False
    last_failure_reason: str | None = None
    billed_seconds: float = 0.0  # closed billed periods
    billed_day: str | None = None  # UTC day (YYYY-MM-DD) that billed_day_seconds counts
    billed_day_seconds: float = 0.0  # closed billed periods within billed_day
    wakes: int = 0
    sleeps: int = 0
    # The idle policy's memory (sleepwake.domain.policy.IdleHistory.to_item()): a bounded histogram of idle gaps.
    history: Mapping[str, Any] | None = None
    # Fleet endpoints: what it takes to bring one back, remembered before the manager deletes it.
    fleet: bool = False
    endpoint_config_name: str | None = None
    tags: Mapping[str, str] | None = None
    # A request is in flight until then (sleepwake.manager.activity: written before InvokeEndpoint, never moved back).
    # Written by callers; the manager never sleeps before it, and a sleep commit fails if it moved.
    busy_until: float | None = None
    # Our sleep was committed then and its delete is pending or under way. Cleared once the endpoint is seen gone.
    # While set, nothing new may start on the endpoint (callers' in-flight marks are refused), a wake waits for
    # the delete and then recreates, and a second sleep is never counted or billed.
    deleting_since: float | None = None
    # Request volume: `request_count` is added to by apps and the gateway (StateStore.add_requests), never written
    # by a manager commit; `request_count_seen` is how much of it the idle history has already been told.
    request_count: int = 0
    request_count_seen: int = 0
    # Measured wakes (wake started -> InService): a running mean over `wakes_measured` wakes, used for W.
    wake_estimate_seconds: float | None = None
    wakes_measured: int = 0
    wake_measured_for: float | None = None  # the wake_started_at of the latest measured wake
    # Capacity-aware wake: the index in EndpointSpec.options() of the configuration the current (or next) create
    # uses, and why (the preferred one, or which type had no capacity). A sleep resets it to the preferred one.
    config_index: int = 0
    serving_reason: str | None = None
    capacity_fallbacks: int = 0  # wakes moved to the next instance type for lack of capacity, all time
    # The savings report's memory (sleepwake.domain.usage): per-minute requests, billed periods and measured wakes
    # of yesterday and today, since the first tick that saw the endpoint (`tracked_since`); and the last day
    # whose report was notified (once a day, by the first tick of the next day).
    activity_log: str | None = None
    periods_log: str | None = None
    wakes_log: str | None = None
    tracked_since: float | None = None
    reported_day: str | None = None

    # Fields written by others; a manager commit never writes them.
    FOREIGN = ("last_activity", "lease_until", "busy_until")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_item(cls, name: str, item: Mapping[str, Any] | None) -> "Record":
        if not item:
            return cls(endpoint_name=name)
        known = {k: item[k] for k in cls.field_names() if k in item and item[k] is not None}
        known["endpoint_name"] = name
        for int_field in (
            "version",
            "failures",
            "wakes",
            "sleeps",
            "request_count",
            "request_count_seen",
            "wakes_measured",
            "config_index",
            "capacity_fallbacks",
        ):
            if int_field in known:
                known[int_field] = int(known[int_field])
        for float_field in (
            "last_activity",
            "lease_until",
            "wake_requested_at",
            "create_claimed_at",
            "wake_started_at",
            "in_service_since",
            "sleep_started_at",
            "next_retry_at",
            "billed_seconds",
            "billed_day_seconds",
            "busy_until",
            "deleting_since",
            "wake_estimate_seconds",
            "wake_measured_for",
            "tracked_since",
        ):
            if float_field in known:
                known[float_field] = float(known[float_field])
        for bool_field in ("gave_up", "fleet"):
            if bool_field in known:
                known[bool_field] = bool(known[bool_field])
        if "tags" in known:
            if not isinstance(known["tags"], dict):
                raise ValueError(f"record {name}: tags must be a map")
            known["tags"] = {str(k): str(v) for k, v in known["tags"].items()}
        return cls(**known)

    def idle_since(self, now: float, activity_at: float | None = None) -> float | None:
        """The latest sign of use: activity (recorded, or seen in CloudWatch), a wake request, the endpoint
        becoming ready, a request in flight or a lease (both count as use up to now while they last)."""
        marks = [
            t for t in (self.last_activity, activity_at, self.wake_requested_at, self.in_service_since) if t is not None
        ]
        marks += [min(t, now) for t in (self.lease_until, self.busy_until) if t is not None]
        return max(marks) if marks else None

    def in_flight(self, now: float) -> bool:
        return self.busy_until is not None and self.busy_until > now

    def lease_active(self, now: float) -> bool:
        return self.lease_until is not None and self.lease_until > now

    def billed_seconds_until(self, now: float) -> float:
        running = now - self.wake_started_at if self.wake_started_at is not None else 0.0
        return self.billed_seconds + max(0.0, running)

    def billed_today_seconds(self, now: float) -> float:
        """Billed seconds since 00:00 UTC today, closed periods and the running one."""
        midnight = now - now % 86400
        closed = self.billed_day_seconds if self.billed_day == utc_day(now) else 0.0
        running = now - max(self.wake_started_at, midnight) if self.wake_started_at is not None else 0.0
        return closed + max(0.0, running)

    def close_billing(self, now: float, **changes: Any) -> "Record":
        """End the current billed period (a delete, a failure, a disappearance) and apply `changes`."""
        periods = self.periods_log
        if self.wake_started_at is not None and now > self.wake_started_at:
            periods = usage.add_pair(periods, self.wake_started_at, now, now, keep_by_end=True)
        return replace(
            self,
            periods_log=periods,
            billed_seconds=self.billed_seconds_until(now),
            billed_day=utc_day(now),
            billed_day_seconds=self.billed_today_seconds(now),
            wake_started_at=None,
            in_service_since=None,
            **changes,
        )


def utc_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


@dataclass(frozen=True)
class Confirmation:
    """Facts re-read from AWS just before a delete: the decision is taken again with them."""

    opted_in: bool  # declared in Terraform, or still carrying the fleet opt-in tag
    protected_by_tag: bool
    activity_at: float | None  # latest CloudWatch invocations, re-read
    endpoint_config_name: str | None = None
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Effect:
    kind: str  # "create" | "delete" | "notify"
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    state: str
    message: str
    record: Record
    effects: tuple[Effect, ...] = ()
    retry_after_seconds: int | None = None
    sleeps_at: float | None = None
    # A sleep commits only if no activity or lease landed since the record was read.
    guard_activity: bool = False
    # A delete needs fresh facts (tags, status, activity): read them and decide again with `confirmation`.
    needs_confirmation: bool = False
    ok: bool = True
    protected: bool = False


@functools.lru_cache(maxsize=256)
def policy_config(
    name: str, wake_seconds: float, hourly_price: float, idle_timeout_seconds: float, penalty_seconds: float | None
) -> PolicyConfig:
    return PolicyConfig.named(
        name,
        wake_seconds=wake_seconds,
        hourly_price=hourly_price,
        idle_timeout_seconds=idle_timeout_seconds,
        cold_start_penalty_seconds=penalty_seconds,
    )


@functools.lru_cache(maxsize=256)
def _parsed_keep_warm(text: str) -> KeepWarm | str:
    try:
        return KeepWarm.parse(text)
    except ValueError as exc:
        return str(exc)


def keep_warm_of(spec: EndpointSpec) -> tuple[KeepWarm | None, str | None]:
    """The endpoint's keep-warm schedule, or the reason it is ignored (a bad fleet tag is reported, not fatal)."""
    if not spec.keep_warm:
        return None, None
    parsed = _parsed_keep_warm(spec.keep_warm)
    if isinstance(parsed, str):
        return None, f"keep-warm schedule {spec.keep_warm!r} ignored: {parsed}"
    return parsed, None


def latest_activity(rec: Record, activity_at: float | None) -> float | None:
    """The latest sign that someone wants the endpoint: recorded activity, CloudWatch invocations, a wake request
    (the request that asked for a wake arrived then, as a request arrives in the simulator)."""
    marks = [t for t in (rec.last_activity, activity_at, rec.wake_requested_at) if t is not None]
    return max(marks) if marks else None


def _history(rec: Record) -> IdleHistory:
    try:
        return IdleHistory.from_item(rec.history)
    except ValueError:
        return IdleHistory()  # a corrupt history is relearnt rather than blocking the endpoint


# A measured wake longer than this is not a wake (an endpoint found serving since long ago): not counted.
MAX_MEASURED_WAKE_SECONDS = 3600.0
# The running estimate weighs the latest wake this much (and at least 1 / number of wakes measured).
WAKE_ESTIMATE_WEIGHT = 0.25


def serving_type(spec: EndpointSpec, rec: Record) -> str | None:
    """The instance type the endpoint runs (or, asleep, will wake) on: the one its capacity index points at."""
    return spec.option(rec.config_index)[1]


def wake_estimate(rec: Record, settings: Settings) -> float:
    """W for this endpoint: the running estimate of its measured wakes, else the configured first guess."""
    return rec.wake_estimate_seconds if rec.wake_estimate_seconds else float(settings.wake_estimate_seconds)


def _measure_wake(rec: Record) -> Record:
    """Fold a finished wake (wake started -> InService) into the endpoint's running wake estimate, once."""
    if rec.in_service_since is None or rec.wake_started_at is None or rec.wake_measured_for == rec.wake_started_at:
        return rec
    took = rec.in_service_since - rec.wake_started_at
    if not 0 < took <= MAX_MEASURED_WAKE_SECONDS:
        return replace(rec, wake_measured_for=rec.wake_started_at)
    count = rec.wakes_measured + 1
    weight = max(WAKE_ESTIMATE_WEIGHT, 1.0 / count)
    log = usage.add_pair(rec.wakes_log, rec.wake_started_at, took, rec.in_service_since)
    estimate = (
        took
        if rec.wake_estimate_seconds is None
        else (rec.wake_estimate_seconds + weight * (took - rec.wake_estimate_seconds))
    )
    return replace(
        rec,
        wake_estimate_seconds=estimate,
        wakes_measured=count,
        wake_measured_for=rec.wake_started_at,
        wakes_log=log,
    )


def observe_activity(rec: Record, now: float, settings: Settings, activity_at: float | None) -> Record:
    """Fold the latest activity (and the requests counted since the last tick) into the idle history, and a
    finished wake into the wake estimate. Only the tick does this, whatever the endpoint's state, exactly as the
    simulator's tick does: so the history the manager learns is the one the simulator learns."""
    rec = _measure_wake(rec)
    history = _history(rec)
    new_requests = rec.request_count - rec.request_count_seen
    observed = history.observe(
        now,
        latest_activity(rec, activity_at),
        wake_seconds=wake_estimate(rec, settings),
        requests=new_requests if new_requests > 0 else None,
        penalty_seconds=None
        if settings.cold_start_penalty_seconds is None
        else float(settings.cold_start_penalty_seconds),
        grace_seconds=float(settings.min_in_service_seconds),
    )
    if rec.tracked_since is None:
        rec = replace(rec, tracked_since=now)
    if observed is not history:
        # The same requests, at the same minute, as the idle history was just told: the report's per-minute trace.
        counted = new_requests if new_requests > 0 else 1
        rec = replace(
            rec,
            history=observed.to_item(),
            request_count_seen=rec.request_count,
            activity_log=usage.add_requests(rec.activity_log, observed.last_activity, counted, now),
        )
    return rec


def idle_decision(
    rec: Record, now: float, spec: EndpointSpec, settings: Settings, *, awake: bool, activity_at: float | None
) -> tuple[Decision, Record]:
    """Ask the idle policy (exactly what the simulator replays) with the recorded history."""
    observed = _history(rec)
    itype = serving_type(spec, rec)
    price = known_price(itype, spec.instance_count) if itype else None
    cfg = policy_config(
        settings.policy,
        wake_estimate(rec, settings),
        price or 1.0,
        float(settings.idle_timeout_seconds),
        None if settings.cold_start_penalty_seconds is None else float(settings.cold_start_penalty_seconds),
    )
    keep_warm, _ = keep_warm_of(spec)
    decision = decide_idle(
        cfg,
        observed,
        now=now,
        awake=awake,
        awake_since=rec.wake_started_at,
        lease_until=rec.lease_until,
        keep_warm=keep_warm,
    )
    return decision, rec


def _hhmm(ts: float) -> str:
    return time.strftime("%H:%M UTC", time.gmtime(ts))


def _retry_after(seconds: float) -> int:
    return max(MIN_RETRY_AFTER_SECONDS, int(seconds + 0.999))


# While our sleep's delete is pending, SageMaker may still report the endpoint as one of these.
SLEEP_PENDING_STATUSES = SERVING_STATUSES | {"Deleting", "OutOfService"}


def sleep_pending(rec: Record, obs: Observed | None) -> bool:
    """Our sleep was committed and the endpoint is still there: its delete is pending or under way."""
    return rec.deleting_since is not None and obs is not None and obs.status in SLEEP_PENDING_STATUSES


def _fold_observation(rec: Record, obs: Observed | None, now: float) -> Record:
    """Bring the record in line with what SageMaker reports (bookkeeping only, no decisions)."""
    status = obs.status if obs else None
    if rec.deleting_since is not None:
        if sleep_pending(rec, obs):
            # Our own sleep, not yet finished: billing was closed at the commit and must not restart; the
            # endpoint is not "ours again" just because it still answers.
            return rec
        # Gone (the sleep finished), or a new endpoint under this name: the sleep is over either way.
        rec = replace(rec, deleting_since=None)
        if status is None:
            return replace(rec, in_service_since=None)
    if status is None:
        if rec.wake_started_at is not None and rec.create_claimed_at is None:
            # Gone without our sleep (deleted by hand): close the billed period and do not fight the person who
            # deleted it; the next request or lease wakes it.
            return rec.close_billing(now, desired="asleep", config_index=0)
        return replace(rec, in_service_since=None)
    changes: dict[str, Any] = {}
    if rec.wake_started_at is None and status != "Deleting":
        # An endpoint we did not start (Terraform, a console user): billing started when it was created.
        changes["wake_started_at"] = obs.created_at if obs.created_at is not None else now
    if status == "InService":
        changes.update(desired="awake", create_claimed_at=None, next_retry_at=None, gave_up=False, failures=0)
        if rec.in_service_since is None:
            # A status read may come a tick after the transition; SageMaker's own timestamp is closer to the truth.
            changes["in_service_since"] = (
                now
                if rec.last_status not in (None, "InService")
                else (obs.last_modified_at if obs.last_modified_at is not None else now)
            )
    elif status == "Creating":
        changes.update(desired="awake", create_claimed_at=None)
    return replace(rec, **changes) if changes else rec


def _notify(event: str, rec: Record, now: float, reason: str, **extra: Any) -> Effect:
    return Effect("notify", {"event": event, "endpoint_name": rec.endpoint_name, "reason": reason, "at": now, **extra})


def decide(
    intent: Intent,
    rec: Record,
    obs: Observed | None,
    now: float,
    spec: EndpointSpec,
    settings: Settings,
    *,
    force: bool = False,
    reset_failures: bool = False,
    activity_at: float | None = None,
    confirmation: Confirmation | None = None,
    activity_known: bool = True,
    may_delete: bool = True,
) -> Plan:
    """Decide what to do about one endpoint. Pure: same inputs, same plan.

    `activity_at` is the latest invocation CloudWatch saw (fleet and app callers that record nothing);
    `activity_known` is False when that read failed (the endpoint then counts as in use); `confirmation` carries
    the facts re-read just before a delete; `may_delete` is False once the tick reached its blast-radius cap."""
    status = obs.status if obs else None
    before = rec
    rec = _fold_observation(rec, obs, now)
    if confirmation is not None and confirmation.activity_at is not None:
        activity_at = max(activity_at or 0.0, confirmation.activity_at)
    protected_statically = settings.protected or spec.protected
    protected_by_tag = confirmation.protected_by_tag if confirmation else None
    protected = protected_statically or bool(protected_by_tag)
    wake_eta = wake_estimate(rec, settings)

    def plan(state: str, message: str, record: Record, *effects: Effect, **kw: Any) -> Plan:
        if intent is Intent.STATUS:
            # status never changes anything: answer from the folded view, commit nothing, do nothing.
            return Plan(state, message, before, (), protected=protected, **kw)
        return Plan(state, message, record, tuple(effects), protected=protected, **kw)

    if intent is Intent.STATUS and status == "InService" and not sleep_pending(rec, obs):
        verdict, _ = idle_decision(rec, now, spec, settings, awake=True, activity_at=activity_at)
        sleeps_at = (
            None
            if protected
            else earliest_sleep(rec, now, settings, verdict.sleep_at, latest_activity(rec, activity_at))
        )
        return plan(READY, f"ready; {verdict.reason}", rec, sleeps_at=sleeps_at)

    # A transition into a troubled status is reported once, by whoever sees it first.
    newly = status is not None and status != rec.last_status
    if intent is not Intent.STATUS:
        rec = replace(rec, last_status=status)

    if intent is Intent.TICK:
        rec = observe_activity(rec, now, settings, activity_at)

    if reset_failures and intent is Intent.WAKE:
        rec = replace(rec, failures=0, gave_up=False, next_retry_at=None, last_failure_reason=None)

    if intent is Intent.WAKE:
        rec = replace(rec, desired="awake", wake_requested_at=now) if not rec.gave_up else rec

    if sleep_pending(rec, obs):
        return _finish_sleep(intent, rec, status, now, settings, plan)

    # ---- absent -------------------------------------------------------------------------------------------
    if status is None:
        if intent is Intent.SLEEP:
            return plan(ASLEEP, "already asleep", replace(rec, desired="asleep"))
        wanted = rec.desired == "awake" or rec.lease_active(now)
        if rec.gave_up:
            return plan(
                FAILED,
                f"gave up after {rec.failures} failed attempts ({rec.last_failure_reason}); "
                "fix the model or configuration, then wake with reset_failures",
                rec,
                ok=False,
            )
        prewarm = None
        if not wanted:
            verdict, rec = idle_decision(rec, now, spec, settings, awake=False, activity_at=activity_at)
            if verdict.action != WAKE_NOW or intent is not Intent.TICK:
                when = f"; the policy plans a wake at {_hhmm(verdict.wake_at)}" if verdict.wake_at else ""
                return plan(ASLEEP, f"asleep; a request or a lease wakes it{when}", rec)
            prewarm = verdict.reason  # only the tick acts on wake-now, as the simulator's tick does
        if (
            intent is Intent.STATUS
            and rec.create_claimed_at is None
            and (rec.next_retry_at is None or now >= rec.next_retry_at)
        ):
            return plan(
                WAKING,
                "waking: a wake is pending; the next tick creates the endpoint",
                rec,
                retry_after_seconds=_retry_after(wake_eta),
            )
        if rec.next_retry_at is not None and now < rec.next_retry_at:
            return plan(
                FAILED,
                f"failed {rec.failures} time(s) ({rec.last_failure_reason}); "
                f"next attempt in {int(rec.next_retry_at - now)} s",
                replace(rec, desired="awake"),
                retry_after_seconds=_retry_after(rec.next_retry_at - now + wake_eta),
            )
        if rec.create_claimed_at is not None and now - rec.create_claimed_at < settings.create_claim_timeout_seconds:
            return plan(
                WAKING,
                "waking: the endpoint is being created",
                rec,
                retry_after_seconds=_retry_after(wake_eta - (now - rec.create_claimed_at)),
            )
        why = (
            "wake requested"
            if intent is Intent.WAKE
            else ("lease active" if rec.lease_active(now) else prewarm or "pending wake")
        )
        index = rec.config_index if 0 <= rec.config_index < len(spec.options()) else 0
        config_name, instance_type = spec.option(index)
        claimed = replace(
            rec,
            desired="awake",
            create_claimed_at=now,
            wake_started_at=now,
            sleep_started_at=None,
            wakes=rec.wakes + 1,
            in_service_since=None,
            config_index=index,
            serving_reason=rec.serving_reason if index else ("preferred instance type" if instance_type else None),
        )
        on = f" on {instance_type}" if instance_type and len(spec.options()) > 1 else ""
        return plan(
            WAKING,
            f"waking: creating the endpoint{on} ({why})",
            claimed,
            Effect(
                "create",
                {"endpoint_config_name": config_name, "instance_type": instance_type, "config_index": index},
            ),
            _notify("wake", rec, now, why, instance_type=instance_type, serving_reason=claimed.serving_reason),
            retry_after_seconds=_retry_after(wake_eta),
        )

    # ---- Creating -----------------------------------------------------------------------------------------
    if status == "Creating":
        started = rec.wake_started_at if rec.wake_started_at is not None else now
        message = "waking: SageMaker is creating the endpoint"
        if intent is Intent.SLEEP:
            message += "; an endpoint is never deleted while Creating"
        return plan(WAKING, message, rec, retry_after_seconds=_retry_after(wake_eta - (now - started)))

    # ---- serving while changing -----------------------------------------------------------------------------
    if status in BUSY_STATUSES:
        return plan(READY, f"serving while {status}; the manager waits and never deletes mid-change", rec)

    # ---- InService ----------------------------------------------------------------------------------------
    if status == "InService":
        effects: list[Effect] = []
        if newly and (before.last_status is not None or before.create_claimed_at is not None):
            took = now - rec.wake_started_at if rec.wake_started_at is not None else None
            effects.append(_notify("ready", rec, now, f"InService after {before.last_status}", wake_seconds=took))
        if intent is Intent.WAKE:
            return plan(READY, "ready", rec, *effects)
        return _maybe_sleep(
            intent,
            rec,
            now,
            spec,
            settings,
            force,
            protected,
            protected_statically,
            confirmation,
            activity_at,
            effects,
            plan,
            activity_known=activity_known,
            may_delete=may_delete,
        )

    # ---- Deleting -----------------------------------------------------------------------------------------
    if status == "Deleting":
        if rec.desired == "awake" or rec.lease_active(now):
            return plan(
                WAKING,
                "waiting for a deletion to finish, then creating the endpoint",
                replace(rec, desired="awake"),
                retry_after_seconds=_retry_after(wake_eta + DELETE_ESTIMATE_SECONDS),
            )
        return plan(SLEEPING, "sleeping: SageMaker is deleting the endpoint", rec)

    # ---- Failed -------------------------------------------------------------------------------------------
    if status == "Failed":
        reason = (obs.failure_reason if obs else None) or "no reason given"
        if intent is Intent.STATUS or (not newly and rec.gave_up):
            return plan(FAILED, f"failed: {reason}", rec, ok=False)
        if spec.fleet and not spec.endpoint_config_name:
            # A fleet endpoint that failed on its owner's watch: without its configuration remembered the manager
            # could not bring it back, so it reports and leaves it for the owner.
            effects = [_notify("failure", rec, now, reason)] if newly else []
            return plan(
                FAILED,
                f"failed: {reason}; a fleet endpoint the manager did not create is left as it is",
                rec,
                *effects,
                ok=False,
            )
        if not newly:
            # Seen before and its delete did not go through yet: try the delete again, count nothing.
            return plan(
                FAILED,
                f"failed: {reason}; deleting it again",
                rec,
                Effect("delete", {"reason": "failed"}),
                ok=False,
                retry_after_seconds=_retry_after((rec.next_retry_at or now) - now + wake_eta),
            )
        fallback = _capacity_fallback(rec, spec, reason)
        if fallback is not None:
            index, message = fallback
            moved = rec.close_billing(
                now,
                create_claimed_at=None,
                desired="awake",
                next_retry_at=None,
                config_index=index,
                serving_reason=message,
                capacity_fallbacks=rec.capacity_fallbacks + 1,
                last_failure_reason=reason,
            )
            return plan(
                WAKING,
                f"waking: {message}; deleting the failed endpoint and creating it on {spec.option(index)[1]}",
                moved,
                Effect("delete", {"reason": "no capacity"}),
                _notify("capacity-fallback", rec, now, message, instance_type=spec.option(index)[1]),
                retry_after_seconds=_retry_after(DELETE_ESTIMATE_SECONDS + wake_eta),
            )
        failures = rec.failures + 1
        billed = rec.close_billing(
            now,
            create_claimed_at=None,
            failures=failures,
            last_failure_reason=reason,
            config_index=0,  # a retry, like the next wake, starts again at the preferred type
            serving_reason=None,
        )
        if failures > settings.max_failure_retries:
            gave_up = replace(billed, gave_up=True, desired="asleep", next_retry_at=None)
            return plan(
                FAILED,
                f"failed {failures} times ({reason}); giving up and deleting the failed endpoint",
                gave_up,
                Effect("delete", {"reason": "failed"}),
                _notify("failure", rec, now, reason, failures=failures, gave_up=True),
                ok=False,
            )
        delay = settings.failure_backoff_seconds * 2 ** (failures - 1)
        retry = replace(billed, next_retry_at=now + delay, desired="awake")
        return plan(
            FAILED,
            f"failed ({reason}); deleting it and recreating in {delay} s (attempt {failures} of "
            f"{settings.max_failure_retries})",
            retry,
            Effect("delete", {"reason": "failed"}),
            _notify("failure", rec, now, reason, failures=failures, retry_in_seconds=delay),
            ok=False,
            retry_after_seconds=_retry_after(delay + wake_eta),
        )

    # ---- OutOfService, UpdateRollbackFailed, and statuses SageMaker may add later ----------------------------
    if status in ("OutOfService", "UpdateRollbackFailed"):
        what = (
            "SageMaker reports the endpoint cannot serve; it may recover it"
            if status == "OutOfService"
            else "an update failed and so did its rollback; the endpoint serves a mix of configurations"
        )
        effects = [_notify("failure", rec, now, f"{status}: {what}")] if newly and intent is not Intent.STATUS else []
        if intent is Intent.SLEEP and force:
            if protected_statically or protected_by_tag:
                return plan(FAILED, f"{status}; protected, not deleting", rec, *effects, ok=False)
            if confirmation is None:
                return Plan(FAILED, "confirming before the delete", before, needs_confirmation=True)
            return _sleep(rec, now, spec, f"forced sleep while {status}", effects, plan, confirmation)
        return plan(
            FAILED, f"{status}: {what}; no automatic action (sleep with force deletes it)", rec, *effects, ok=False
        )

    return plan(FAILED, f"unknown SageMaker status {status!r}; no action taken", rec, ok=False)


def _capacity_fallback(rec: Record, spec: EndpointSpec, reason: str) -> tuple[int, str] | None:
    """(next configuration index, why) when a create failed for capacity and another instance type is left."""
    options = spec.options()
    index = rec.config_index if 0 <= rec.config_index < len(options) else 0
    if index + 1 >= len(options) or not is_capacity_failure(None, reason):
        return None
    return index + 1, capacity_message(options[index][1], options[index + 1][1], reason)


def capacity_message(failed_type: str | None, next_type: str | None, reason: str) -> str:
    return f"no capacity for {failed_type} ({reason[:200]}); moved to {next_type}"


def earliest_sleep(
    rec: Record, now: float, settings: Settings, policy_sleep_at: float | None, latest: float | None
) -> float | None:
    """When the endpoint may sleep at the earliest: the policy's time, but never within the grace period after
    InService, the in-flight guard after the latest activity, a request's in-flight mark or a lease."""
    if policy_sleep_at is None:
        return None
    marks = [policy_sleep_at, now]
    if rec.in_service_since is not None:
        marks.append(rec.in_service_since + settings.min_in_service_seconds)
    if latest is not None:
        marks.append(latest + IN_FLIGHT_GUARD_SECONDS)
    marks += [t for t in (rec.busy_until, rec.lease_until) if t is not None]
    return max(marks)


def _finish_sleep(intent: Intent, rec: Record, status: str | None, now: float, settings: Settings, plan) -> Plan:
    """Our sleep is committed and the endpoint still exists. The sleep finishes exactly once: nothing is counted,
    billed or notified again, and a tick re-issues the delete (idempotent) in case the first attempt failed.
    A wake that came after the sleep decision wins: the endpoint is recreated as soon as it is gone."""
    wanted = rec.desired == "awake" or rec.lease_active(now)
    if wanted:
        deleting_left = DELETE_ESTIMATE_SECONDS if status == "Deleting" else 2 * DELETE_ESTIMATE_SECONDS
        message = "waking: the endpoint is being put to sleep; it is recreated as soon as the delete finishes"
        state, retry = WAKING, _retry_after(wake_estimate(rec, settings) + deleting_left)
    else:
        message, state, retry = "sleeping: deleting the endpoint", SLEEPING, None
    if intent is Intent.TICK and status != "Deleting":
        return plan(
            state,
            message + " (delete issued again)",
            rec,
            Effect("delete", {"reason": "finishing sleep"}),
            retry_after_seconds=retry,
        )
    return plan(state, message, rec, retry_after_seconds=retry)


def _maybe_sleep(
    intent,
    rec,
    now,
    spec,
    settings,
    force,
    protected,
    protected_statically,
    confirmation,
    activity_at,
    effects,
    plan,
    *,
    activity_known: bool = True,
    may_delete: bool = True,
) -> Plan:
    verdict, rec = idle_decision(rec, now, spec, settings, awake=True, activity_at=activity_at)
    latest = latest_activity(rec, activity_at)
    sleeps_at = None if protected_statically else earliest_sleep(rec, now, settings, verdict.sleep_at, latest)
    if rec.in_flight(now):
        return plan(
            READY,
            f"ready; a request is in flight (for up to {int(rec.busy_until - now)} s more)",
            rec,
            *effects,
            sleeps_at=sleeps_at,
        )
    if latest is not None and now - latest < IN_FLIGHT_GUARD_SECONDS:
        return plan(
            READY,
            f"ready; used {int(now - latest)} s ago, a request may still be running",
            rec,
            *effects,
            sleeps_at=sleeps_at,
        )
    if rec.lease_active(now):
        return plan(
            READY,
            f"ready; kept awake by a lease for {int(rec.lease_until - now)} s more",
            rec,
            *effects,
            sleeps_at=sleeps_at,
        )
    if protected_statically:
        return plan(READY, "ready; protected from sleep", rec, *effects)
    if not force:
        in_service_for = now - rec.in_service_since if rec.in_service_since is not None else 0.0
        if in_service_for < settings.min_in_service_seconds:
            return plan(
                READY,
                f"ready; InService for {int(in_service_for)} s, within the "
                f"{settings.min_in_service_seconds} s grace period",
                rec,
                *effects,
                sleeps_at=sleeps_at,
            )
        if not activity_known:
            return plan(
                READY,
                "ready; its activity could not be read this tick, so it counts as in use",
                rec,
                *effects,
                sleeps_at=sleeps_at,
            )
        if verdict.action != SLEEP_NOW:
            return plan(READY, f"ready; {verdict.reason}", rec, *effects, sleeps_at=sleeps_at)
        if not may_delete:
            return plan(
                READY,
                f"ready; its sleep waits for the next tick: this tick already deleted "
                f"{settings.max_deletes_per_tick} endpoints (SLEEPWAKE_MAX_DELETES_PER_TICK)",
                rec,
                *effects,
                sleeps_at=sleeps_at,
            )
    if confirmation is None:
        return Plan(READY, "confirming before the delete", rec, needs_confirmation=True)
    if not confirmation.opted_in:
        return plan(READY, "ready; no longer carries the opt-in tag, so the manager leaves it alone", rec, *effects)
    if protected:
        return plan(READY, "ready; protected from sleep by its tag", rec, *effects)
    reason = "forced sleep" if force else verdict.reason
    return _sleep(rec, now, spec, reason, effects, plan, confirmation)


def _sleep(
    rec: Record, now: float, spec: EndpointSpec, reason: str, effects: list[Effect], plan, confirmation: Confirmation
) -> Plan:
    awake_seconds = now - rec.wake_started_at if rec.wake_started_at is not None else 0.0
    remember: dict[str, Any] = {}
    if spec.fleet:
        # Everything needed to recreate it with the same name, configuration and tags.
        remember = {
            "fleet": True,
            "endpoint_config_name": confirmation.endpoint_config_name or spec.endpoint_config_name,
            "tags": dict(confirmation.tags if confirmation.tags is not None else spec.tags),
        }
    slept = rec.close_billing(
        now,
        desired="asleep",
        sleep_started_at=now,
        deleting_since=now,
        create_claimed_at=None,
        sleeps=rec.sleeps + 1,
        config_index=0,  # the next wake tries the preferred instance type first
        serving_reason=None,
        **remember,
    )
    return plan(
        SLEEPING,
        f"sleeping: deleting the endpoint ({reason}); model and configuration stay",
        slept,
        *effects,
        # Notified first: the sleep is committed, and a delete that fails now is re-issued by the next tick.
        _notify(
            "sleep",
            rec,
            now,
            reason,
            awake_seconds=awake_seconds,
            instance_type=serving_type(spec, rec),
            instance_count=spec.instance_count,
        ),
        Effect("delete", {"reason": reason}),
        guard_activity=True,
    )
