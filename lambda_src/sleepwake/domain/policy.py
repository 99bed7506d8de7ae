"""Idle policies: when to put an endpoint to sleep, and when to wake it before anyone asks.

Sleeping is a bet. Keeping an idle endpoint costs its hourly price; deleting it costs a wake later (W minutes of
billed instance time, plus requests that wait W minutes). This is the ski-rental problem. Every policy here is a
pure function of an endpoint's recorded history, its lease, its keep-warm schedule and the current time: no
clock reads, no AWS, standard library only. The manager Lambda runs it every minute, and the simulator
(`python -m sleepwake_sim.simulate`) replays traces through exactly this code.

Policies (`PolicyConfig.named` has the presets):

- `always-on`: never sleep; wake whenever asleep.
- `fixed`: sleep at the first check time (a multiple of `check_interval_seconds` since the epoch) at which the
  endpoint has been idle for `idle_timeout_seconds`, then `post_alarm_wait_seconds` later. The presets are the
  two designs this project grew from: `fixed-15-15` (15 idle minutes checked every 15 minutes: it sleeps 15-30
  minutes after the last request) and `alarm-3x5+5` (a CloudWatch alarm on no invocations in 3 x 5-minute
  periods, then a 5-minute wait: 20-25 minutes). Both are modelled in their most favourable reading: activity
  counts at the start of its minute, and a check exactly one timeout later already sleeps.
- `breakeven`: `fixed` with the ski-rental break-even timeout, wake cost / hourly price = W + the cold-start
  penalty (both in minutes of the instance's price), checked every minute. It is never more than 2x the offline
  optimum, and never better when the next request is predictable.
- `adaptive` (the default): the hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC
  2020), adapted to a billed wake of W minutes. Each endpoint keeps a bounded histogram of its idle gaps
  (one-minute bins up to `HISTOGRAM_MINUTES`, plus an overflow count), and for each gap length how many active
  minutes followed within W. After each request it follows a plan, in minutes after the last activity:

      stay awake until k;  sleep;  wake at x, so that it is ready at x + W;  stay awake until e;  sleep.

  The paper takes the plan from percentiles: pre-warm at the 5th percentile ("head") of the idle times, keep
  alive to the 99th ("tail"), and margins of 10% on both. With a multi-minute, billed wake, a percentile is a
  poor proxy for money. So the plan is the one with the least expected cost over the recorded gaps: the price of
  staying awake, of each wake (W) and of each request that waits (the penalty, times the active minutes that
  usually follow such a gap). This expected cost is an approximation (it charges a cold gap k + W, while the
  simulator bills a wake from its start to the delete, at least W + the grace); what is exact is the regret
  guard below, whose yardsticks are priced by the simulator's own rules. Pre-warming pays off only when a cluster
  of gaps is longer than the break-even; x is then the head of that cluster minus W, and e its tail. The
  paper's margins survive as smoothing: a gap length seen n times counts as spread over +-25%/sqrt(n) of its
  length (a triangle around it, so as wide as +-10% margins would make it when n = 6). One gap says little
  about where the next lands; a timer that hit the same minute ten times says a lot. A sleep before a pre-warm
  lasts at least W: deleting an endpoint to recreate it moments later saves little and churns SageMaker.
  The paper falls back to a fixed keep-alive while the histogram is not representative. Here a prior of
  `adaptive_prior_weight` pseudo-gaps does that job. They sit at the worst case of each simple rule: just past
  W, just past the break-even, and endless, and each carries the volume the endpoint has shown (the square root
  of its mean exposure per gap, or of its requests per active tick before any gap). With no history and one
  request at a time the plan is "sleep as soon as it is ready" (the right bet for an endpoint used once); with
  hundreds of requests a minute it keeps the endpoint up (a wake would make them all wait). A handful of gaps
  moves it towards the break-even timeout, and only a histogram with real structure earns a pre-warm.
  A regret guard watches the plan: the history replays fixed timeouts (0 to 240 minutes, the break-even among
  them) and never sleeping on the endpoint's own traffic, with the simulator's cost model and costs fading over
  two days (`EXPERT_MINUTES`, `_replay_experts`). A keep-alive plan that would have cost more than 10% (and one
  wake) above the cheapest of them is replaced by that one (`_regret_guard`). The plan costs O(distinct gap
  lengths) and is cached per history object, so `decide` stays cheap for fleets of hundreds of endpoints.

Every policy starts its idle clock at the later of the last request's arrival and the start of the current wake
(a lease, a keep-warm window or a pre-warm has seen no request before it). A lease (`lease_until > now`) keeps
an endpoint awake (and wakes it). A keep-warm schedule keeps it awake inside its windows and wakes it W before
each window starts. The manager adds its own safety rules (a grace
period after InService, protection) on top.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sleepwake.domain.schedule import KeepWarm

KEEP, SLEEP, WAKE = "keep", "sleep", "wake"
POLICY_NAMES = ("always-on", "fixed", "breakeven", "adaptive")

# Idle gaps longer than this go to the overflow count (the paper's 4-hour histogram range).
HISTOGRAM_MINUTES = 240
# When the histogram holds more gaps than this, every count is halved, so old habits fade.
HISTOGRAM_MAX_SAMPLES = 10_000
DEFAULT_WAKE_SECONDS = 480.0
DEFAULT_GRACE_SECONDS = 120.0  # the manager's default grace after InService (Settings.min_in_service_seconds)
HISTORY_SHAPE_VERSION = 1
# The regret guard's yardsticks: fixed idle timeouts (minutes; None = never sleep, i.e. always-on) replayed
# on the endpoint's own traffic, each with the cost model of the simulator (`_replay_expert`).
EXPERT_MINUTES: tuple[int | None, ...] = (0, 1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 240, None)
# Their costs fade with this time constant (seconds), so the guard judges recent traffic.
EXPERT_MEMORY_SECONDS = 2 * 86400.0
# The plan is overruled when its own timeout would have cost more than this much above the best yardstick.
REGRET_MARGIN = 0.10
# ... and by more than this many wakes' worth (W + penalty), so one gap seen in hindsight does not decide.
REGRET_SLACK_WAKES = 1.0
# Fewer gaps than this is no evidence: the plan keeps the endpoint at least the break-even time (safe start).
EVIDENCE_GAPS = 0


@dataclass(frozen=True)
class PolicyConfig:
    """Everything a policy needs besides the endpoint's history; built from settings or CLI options."""

    name: str  # one of POLICY_NAMES
    wake_seconds: float  # W: from the start of a wake until the endpoint serves
    hourly_price: float
    idle_timeout_seconds: float = 900.0  # fixed
    check_interval_seconds: float = 60.0  # fixed: decisions only at multiples of this since the epoch
    post_alarm_wait_seconds: float = 0.0  # fixed: a further wait after the check that found it idle
    cold_start_penalty_seconds: float | None = None  # worth of one waiting request, in seconds of price; None = W
    adaptive_prior_weight: float = 4.0  # pseudo-gaps blended into the histogram (see _prior)
    adaptive_smoothing: float = 0.25  # a gap seen n times counts as spread over +- this / sqrt(n) of its length
    label: str | None = None  # preset name, for tables and logs

    def __post_init__(self) -> None:
        if self.name not in POLICY_NAMES:
            raise ValueError(f"unknown policy {self.name!r}; valid: {', '.join(POLICY_NAMES)}")
        for attr in (
            "wake_seconds",
            "hourly_price",
            "idle_timeout_seconds",
            "post_alarm_wait_seconds",
            "adaptive_prior_weight",
            "adaptive_smoothing",
        ):
            _check_number(attr, getattr(self, attr))
        _check_number("check_interval_seconds", self.check_interval_seconds, positive=True)
        if self.cold_start_penalty_seconds is not None:
            _check_number("cold_start_penalty_seconds", self.cold_start_penalty_seconds)
        if self.adaptive_smoothing >= 1:
            raise ValueError(f"adaptive_smoothing must be below 1, got {self.adaptive_smoothing!r}")

    @property
    def penalty_seconds(self) -> float:
        return self.wake_seconds if self.cold_start_penalty_seconds is None else self.cold_start_penalty_seconds

    @property
    def penalty_rate(self) -> float:
        """What one second of one request's wait costs, in seconds of the instance's price (see `wait_cost`)."""
        return penalty_rate(self.wake_seconds, self.penalty_seconds)

    @property
    def breakeven_seconds(self) -> float:
        """Idle time that costs as much as one wake: W of billing plus one waiting request."""
        return self.wake_seconds + self.penalty_seconds

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @classmethod
    def named(cls, name: str, **kw: Any) -> "PolicyConfig":
        """A preset from `PRESETS` (plain policy names included), completed and overridden by `kw`.

        `wake_seconds` and `hourly_price` are required in `kw`.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown policy {name!r}; valid: {', '.join(PRESETS)}")
        params: dict[str, Any] = {"label": name, **PRESETS[name]}
        params.update(kw)
        missing = [key for key in ("wake_seconds", "hourly_price") if key not in params]
        if missing:
            raise TypeError(f"PolicyConfig.named({name!r}) needs {' and '.join(missing)}")
        return cls(**params)


# --------------------------------------------------------------------------------------------- cost model
# One cost model for the plan, the simulator and the optima, all in seconds of the instance's price:
#   billing from the start of each wake until its delete (never sooner than the grace after ready, nor than the
#   in-flight guard after the last request), plus, for every request that waits, the penalty pro rata to its
#   wait: a request that waits a whole wake W costs `penalty_seconds`, one that arrives with 2 minutes of the
#   wake left costs 2/W of that.
def penalty_rate(wake_seconds: float, penalty_seconds: float) -> float:
    return penalty_seconds / wake_seconds if wake_seconds > 0 else 0.0


def wait_cost(wait_seconds: float, requests: float, rate: float) -> float:
    """The penalty of `requests` requests that each wait `wait_seconds` (0 for no wait)."""
    return rate * wait_seconds * requests if wait_seconds > 0 else 0.0


def _check_number(name: str, value: Any, *, positive: bool = False) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, got {value!r}")


# Presets; `--policy all` in the simulator runs ALL_PRESETS, in this order.
PRESETS: dict[str, dict[str, Any]] = {
    "always-on": {"name": "always-on"},
    "fixed-15-15": {"name": "fixed", "idle_timeout_seconds": 900.0, "check_interval_seconds": 900.0},
    "alarm-3x5+5": {
        "name": "fixed",
        "idle_timeout_seconds": 900.0,
        "check_interval_seconds": 300.0,
        "post_alarm_wait_seconds": 300.0,
    },
    "breakeven": {"name": "breakeven"},
    "adaptive": {"name": "adaptive"},
    "fixed": {"name": "fixed"},
}
ALL_PRESETS = ("always-on", "fixed-15-15", "alarm-3x5+5", "breakeven", "adaptive")


# --------------------------------------------------------------------------------------------------- history
@dataclass
class IdleHistory:
    """An endpoint's idle gaps: a bounded histogram in whole minutes, stored by the manager in DynamoDB.

    `observe` is called once per manager tick with the endpoint's latest recorded activity. Each new activity
    time records the gap since the previous one, rounded to whole minutes (at least 1). Several requests between
    two ticks therefore make one active minute, exactly as in the simulator's per-minute replay.
    It also counts, for each gap, the active minutes (this one included) in the W that follow the gap's end:
    the requests that would have waited had the endpoint been asleep (their number, when `observe` is told it).
    That count is settled by the first activity at least W after the gap's end, and kept as `pending` until then.
    """

    last_activity: float | None = None
    counts: dict[int, int] = field(default_factory=dict)  # gap minutes (1..HISTOGRAM_MINUTES) -> gaps
    exposure: dict[int, int] = field(default_factory=dict)  # gap minutes -> active minutes in the W after them
    overflow: int = 0  # gaps longer than HISTOGRAM_MINUTES
    overflow_exposure: int = 0
    pending: tuple[tuple[int, float, int], ...] = ()  # (gap minutes or 0 = overflow, gap end, active minutes)
    requests: int = 0  # requests seen (active ticks count one each when the caller does not know the number)
    active: int = 0  # active ticks seen; both halve with the histogram
    # One state per EXPERT_MINUTES entry: (awake 0/1, wake start, ready at, billed up to, fading cost in seconds)
    experts: tuple[tuple[float, float, float, float, float], ...] = ()
    # Plans derived from this history, per config; never stored, never compared.
    _plans: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def samples(self) -> int:
        return sum(self.counts.values()) + self.overflow

    def observe(
        self,
        now: float,
        last_activity: float | None,
        *,
        wake_seconds: float = DEFAULT_WAKE_SECONDS,
        requests: int | None = None,
        penalty_seconds: float | None = None,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
    ) -> "IdleHistory":
        """The history after a tick at `now` that saw `last_activity`; `self` when there is nothing new.

        Pass the policy's `wake_seconds`: it is the window over which the exposure of a gap is counted.
        `requests`, when the caller knows it, is how many requests came since the previous tick; without it an
        active tick counts as one. `penalty_seconds` (default W) and `grace_seconds` price the regret guard's
        yardsticks exactly as the simulator would.
        """
        del now  # the activity time is what counts; `now` is part of the tick's contract
        previous = self.last_activity
        if last_activity is None or (previous is not None and last_activity <= previous):
            return self
        weight = 1 if requests is None or requests < 1 else int(requests)
        seen_requests, seen_active = self.requests + weight, self.active + 1
        counts = dict(self.counts)
        exposure = dict(self.exposure)
        overflow, overflow_exposure = self.overflow, self.overflow_exposure
        pending: list[tuple[int, float, int]] = []
        for gap, gap_end, active in self.pending:
            if last_activity < gap_end + wake_seconds:
                pending.append((gap, gap_end, active + weight))
            elif gap == 0:
                overflow_exposure += active
            else:
                exposure[gap] = exposure.get(gap, 0) + active
        if previous is not None:
            gap = max(1, int(math.floor((last_activity - previous) / 60.0 + 0.5)))
            if gap > HISTOGRAM_MINUTES:
                overflow += 1
                pending.append((0, last_activity, weight))
            else:
                counts[gap] = counts.get(gap, 0) + 1
                pending.append((gap, last_activity, weight))
        if sum(counts.values()) + overflow > HISTOGRAM_MAX_SAMPLES:
            counts = {gap: n // 2 for gap, n in counts.items() if n // 2}
            exposure = {gap: exposure[gap] // 2 for gap in counts if exposure.get(gap, 0) // 2}
            overflow, overflow_exposure = overflow // 2, overflow_exposure // 2
            seen_requests, seen_active = seen_requests // 2, seen_active // 2
        penalty = wake_seconds if penalty_seconds is None else penalty_seconds
        experts = _replay_experts(
            self.experts,
            previous,
            last_activity,
            weight,
            wake_seconds,
            penalty_rate(wake_seconds, penalty),
            grace_seconds,
        )
        return IdleHistory(
            last_activity=last_activity,
            counts=counts,
            exposure=exposure,
            overflow=overflow,
            overflow_exposure=overflow_exposure,
            pending=tuple(pending),
            requests=seen_requests,
            active=seen_active,
            experts=experts,
        )

    def expert_costs(self) -> dict[int | None, float]:
        """Each yardstick timeout's fading cost on this endpoint's recent traffic (empty before any activity)."""
        return {minutes: state[4] for minutes, state in zip(EXPERT_MINUTES, self.experts)}

    def to_item(self) -> dict:
        """JSON-native: numbers, lists and a dict with string keys."""
        return {
            "v": HISTORY_SHAPE_VERSION,
            "last_activity": self.last_activity,
            "bins": [[gap, self.counts[gap], self.exposure.get(gap, 0)] for gap in sorted(self.counts)],
            "overflow": self.overflow,
            "overflow_exposure": self.overflow_exposure,
            "pending": [[gap, gap_end, active] for gap, gap_end, active in self.pending],
            "requests": self.requests,
            "active": self.active,
            "experts": [list(state) for state in self.experts],
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> "IdleHistory":
        """Tolerates None, missing fields, [minutes, count] pairs and numbers stored as Decimal or strings;
        raises ValueError naming the field on corrupt data."""
        if not item:
            return cls()
        if not isinstance(item, Mapping):
            raise ValueError(f"idle history must be a map, got {type(item).__name__}")
        last = item.get("last_activity")
        last = None if last is None else _number(last, "last_activity")
        counts: dict[int, int] = {}
        exposure: dict[int, int] = {}
        bins = item.get("bins") or []
        if isinstance(bins, Mapping):  # a hand-written shape: {"minutes": count}
            bins = [[key, value] for key, value in bins.items()]
        if not isinstance(bins, (list, tuple)):
            raise ValueError("idle history field 'bins' must be a list of [minutes, count, exposure] triples")
        for entry in bins:
            if not isinstance(entry, (list, tuple)) or len(entry) not in (2, 3):
                raise ValueError(f"idle history field 'bins' holds {entry!r}, not [minutes, count, exposure]")
            gap, count = _whole(entry[0], "bins"), _whole(entry[1], "bins")
            if not 1 <= gap <= HISTOGRAM_MINUTES:
                raise ValueError(
                    f"idle history field 'bins' has a gap of {gap} minutes, outside 1..{HISTOGRAM_MINUTES}"
                )
            active = _whole(entry[2], "bins") if len(entry) == 3 else count
            if count:
                counts[gap] = counts.get(gap, 0) + count
                if active:
                    exposure[gap] = exposure.get(gap, 0) + active
        pending = []
        raw_pending = item.get("pending") or []
        if not isinstance(raw_pending, (list, tuple)):
            raise ValueError("idle history field 'pending' must be a list of [gap, gap_end, active] triples")
        for entry in raw_pending:
            if not isinstance(entry, (list, tuple)) or len(entry) != 3:
                raise ValueError(f"idle history field 'pending' holds {entry!r}, not [gap, gap_end, active]")
            gap = _whole(entry[0], "pending")
            if gap > HISTOGRAM_MINUTES:
                raise ValueError(f"idle history field 'pending' has a gap of {gap} minutes")
            pending.append((gap, _number(entry[1], "pending"), _whole(entry[2], "pending")))
        experts = []
        raw_experts = item.get("experts") or []
        if not isinstance(raw_experts, (list, tuple)) or (raw_experts and len(raw_experts) != len(EXPERT_MINUTES)):
            raise ValueError(f"idle history field 'experts' must be a list of {len(EXPERT_MINUTES)} states")
        for entry in raw_experts:
            if not isinstance(entry, (list, tuple)) or len(entry) != 5:
                raise ValueError(f"idle history field 'experts' holds {entry!r}, not 5 numbers")
            experts.append(tuple(_number(value, "experts") for value in entry))
        return cls(
            last_activity=last,
            counts=counts,
            exposure=exposure,
            overflow=_whole(item.get("overflow", 0), "overflow"),
            overflow_exposure=_whole(item.get("overflow_exposure", 0), "overflow_exposure"),
            pending=tuple(pending),
            requests=_whole(item.get("requests", 0), "requests"),
            active=_whole(item.get("active", 0), "active"),
            experts=tuple(experts),
        )  # type: ignore[arg-type]


def _replay_experts(
    states: tuple, previous: float | None, at: float, requests: int, wake: float, rate: float, grace: float
) -> tuple:
    """Advance every yardstick timeout to a request (or a tick's requests) at `at`, with the simulator's rules:
    a `fixed` timeout checked every minute, the idle clock from the later of the last request and the wake's
    start, no delete within the grace after ready nor the in-flight guard after a request, and waits priced by
    `wait_cost`. Costs fade by exp(-elapsed / EXPERT_MEMORY_SECONDS)."""
    fade = 1.0 if previous is None else math.exp(-max(0.0, at - previous) / EXPERT_MEMORY_SECONDS)
    if not states:
        states = tuple((0.0, 0.0, 0.0, 0.0, 0.0) for _ in EXPERT_MINUTES)
    out = []
    for minutes, (awake, wake_start, ready_at, billed_to, cost) in zip(EXPERT_MINUTES, states):
        cost *= fade
        if awake and previous is not None:
            if minutes is None:
                delete = math.inf
            else:
                idle_from = max(previous, wake_start)
                sleep_at = math.ceil((idle_from + minutes * 60.0) / 60.0 - 1e-9) * 60.0
                allowed = max(ready_at + grace, previous + IN_FLIGHT_GUARD)
                delete = max(sleep_at, math.ceil(allowed / 60.0 - 1e-9) * 60.0)
            if delete < at:
                cost += delete - billed_to
                awake = 0.0
            else:
                cost += at - billed_to
                billed_to = at
        if not awake:
            awake, wake_start, ready_at, billed_to = 1.0, at, at + wake, at
        cost += wait_cost(ready_at - at, requests, rate)
        out.append((awake, wake_start, ready_at, billed_to, cost))
    return tuple(out)


IN_FLIGHT_GUARD = 60.0  # as core.IN_FLIGHT_GUARD_SECONDS (policy imports nothing from the manager)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"idle history field {name!r} is not a number: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"idle history field {name!r} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"idle history field {name!r} is not finite: {value!r}")
    return number


def _whole(value: Any, name: str) -> int:
    number = _number(value, name)
    if number < 0 or number != int(number):
        raise ValueError(f"idle history field {name!r} must hold whole numbers >= 0, got {value!r}")
    return int(number)


# ----------------------------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class Decision:
    """`action` is relative to the current state: awake -> keep | sleep; asleep -> keep | wake."""

    action: str  # "keep" | "sleep" | "wake"
    reason: str  # a sentence for status answers and logs
    sleep_at: float | None = None  # while awake: when it would sleep if no new activity arrives
    wake_at: float | None = None  # while asleep: planned pre-warm (or keep-warm) wake time, if any


@dataclass(frozen=True)
class Plan:
    """The adaptive policy's bet, in minutes after the last activity."""

    keep_minutes: float  # stay awake this long, then sleep
    prewarm_minutes: float | None = None  # start a wake this long after the last activity ...
    until_minutes: float | None = None  # ... and stay awake until this long after it
    expected_cost: float = 0.0  # per gap, in minutes of the instance's price
    basis: str = ""


def decide(
    cfg: PolicyConfig,
    history: IdleHistory,
    *,
    now: float,
    awake: bool,
    awake_since: float | None,
    lease_until: float | None = None,
    keep_warm: "KeepWarm | None" = None,
) -> Decision:
    """keep / sleep / wake for one endpoint at `now`.

    `awake`: the endpoint exists and is (becoming) InService; `awake_since`: when its current wake started (when
    the manager first saw it awake, if it did not start it). Pass it whenever `awake`: without it, and without
    any recorded activity, the idle clock would start anew at every call.
    Without new activity the answer stays the same until `sleep_at` (awake) or `wake_at` (asleep), which is what
    lets the simulator jump from event to event.
    """
    base = _base_decision(cfg, history, now=now, awake=awake, awake_since=awake_since)
    hold_until: float | None = None
    hold_reason = ""
    if lease_until is not None and lease_until > now:
        hold_until, hold_reason = lease_until, f"leased until {_clock(lease_until)}"
    if keep_warm is not None:
        warm_end = _keep_warm_hold(keep_warm, now, cfg.wake_seconds)
        if warm_end is not None and (hold_until is None or warm_end > hold_until):
            hold_until, hold_reason = warm_end, f"keep-warm window until {_clock(warm_end)}"
    if hold_until is not None:
        if not awake:
            return Decision(WAKE, f"{hold_reason}: waking", None, now)
        sleep_at = None if base.sleep_at is None else max(base.sleep_at, hold_until)
        return Decision(KEEP, hold_reason, sleep_at, None)
    if not awake and keep_warm is not None and base.action == KEEP:
        start = keep_warm.next_start(now)
        if start is not None:
            warm_at = start - cfg.wake_seconds
            if base.wake_at is None or warm_at < base.wake_at:
                return Decision(
                    KEEP, f"{base.reason}; wakes at {_clock(warm_at)} for the keep-warm window", None, warm_at
                )
    return base


def _keep_warm_hold(keep_warm: "KeepWarm", now: float, wake_seconds: float) -> float | None:
    """End of the keep-warm claim covering `now` (a window, or the W before one), else None."""
    if keep_warm.active(now):
        return keep_warm.current_end(now)
    start = keep_warm.next_start(now)
    if start is not None and start - wake_seconds <= now:
        return keep_warm.current_end(start)
    return None


def _base_decision(
    cfg: PolicyConfig, history: IdleHistory, *, now: float, awake: bool, awake_since: float | None
) -> Decision:
    name = cfg.name
    if name == "always-on":
        return Decision(KEEP, "always on") if awake else Decision(WAKE, "always on: waking", None, now)
    if name == "adaptive":
        return _adaptive(cfg, history, now=now, awake=awake, awake_since=awake_since)
    if not awake:
        return Decision(KEEP, "asleep until a request")
    if name == "breakeven":
        timeout, interval, wait = cfg.breakeven_seconds, 60.0, 0.0
    else:
        timeout, interval, wait = cfg.idle_timeout_seconds, cfg.check_interval_seconds, cfg.post_alarm_wait_seconds
    reference = _idle_since(history.last_activity, awake_since, now)
    sleep_at = math.ceil((reference + timeout) / interval) * interval + wait
    idle = (now - reference) / 60.0
    if now >= sleep_at:
        return Decision(SLEEP, f"idle {idle:.0f} min (timeout {timeout / 60:g} min)", now)
    return Decision(KEEP, f"idle {idle:.0f} min; sleeps at {_clock(sleep_at)} unless a request comes", sleep_at)


def _adaptive(
    cfg: PolicyConfig, history: IdleHistory, *, now: float, awake: bool, awake_since: float | None
) -> Decision:
    plan = plan_for(cfg, history)
    last = history.last_activity
    if last is None:  # never used: nothing to measure from
        if not awake:
            return Decision(KEEP, "asleep until a request (no activity recorded yet)")
        sleep_at = _idle_since(None, awake_since, now) + plan.keep_minutes * 60.0
        if sleep_at == math.inf:
            return Decision(KEEP, "no activity recorded yet; stays awake")
        if now >= sleep_at:
            return Decision(SLEEP, "no activity recorded since the wake", now)
        return Decision(KEEP, f"no activity recorded yet; sleeps at {_clock(sleep_at)}", sleep_at)
    window: tuple[float, float] | None = None
    if plan.prewarm_minutes is not None and plan.until_minutes is not None:
        window = (last + plan.prewarm_minutes * 60.0, last + plan.until_minutes * 60.0)
    if not awake:
        if window is not None:
            if now < window[0]:
                return Decision(KEEP, f"asleep; pre-warm at {_clock(window[0])}; {plan.basis}", None, window[0])
            if now + cfg.wake_seconds <= window[1]:
                return Decision(
                    WAKE, f"pre-warming for a request expected by {_clock(window[1])}; {plan.basis}", None, now
                )
        return Decision(KEEP, f"asleep until a request; {plan.basis}")
    if window is not None and awake_since is not None and window[0] <= awake_since < window[1]:
        sleep_at = window[1]  # our own pre-warm (or any wake inside the window): stay to the window's end
    else:
        sleep_at = _idle_since(last, awake_since, now) + plan.keep_minutes * 60.0
        if window is not None and sleep_at < window[1] and max(sleep_at, now) >= window[0]:
            sleep_at = window[1]  # awake anyway (e.g. ready after a cold start) when the window opens: stay
    idle = (now - last) / 60.0
    if sleep_at == math.inf:
        return Decision(KEEP, f"idle {idle:.0f} min; stays awake; {plan.basis}")
    if now >= sleep_at:
        return Decision(SLEEP, f"idle {idle:.0f} min; {plan.basis}", now)
    return Decision(
        KEEP, f"idle {idle:.0f} min; sleeps at {_clock(sleep_at)} unless a request comes; {plan.basis}", sleep_at
    )


def _idle_since(last_activity: float | None, awake_since: float | None, now: float) -> float:
    """Where the idle clock starts: the last activity, or the start of the current wake if that came later
    (a wake nobody asked for, such as a lease or a keep-warm window, has seen no request before)."""
    if last_activity is None:
        return awake_since if awake_since is not None else now
    return last_activity if awake_since is None or awake_since < last_activity else awake_since


def _clock(epoch: float) -> str:
    seconds = int(epoch) % 86400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}Z"


# ------------------------------------------------------------------------------------------- adaptive plan
def plan_for(cfg: PolicyConfig, history: IdleHistory) -> Plan:
    """The adaptive plan for this history (cached on the history object, which is never changed in place)."""
    key = (cfg.wake_seconds, cfg.penalty_seconds, cfg.adaptive_prior_weight, cfg.adaptive_smoothing)
    plan = history._plans.get(key)
    if plan is None:
        plan = _regret_guard(cfg, history, _compute_plan(cfg, history))
        history._plans[key] = plan
    return plan


def _regret_guard(cfg: PolicyConfig, history: IdleHistory, plan: Plan) -> Plan:
    """Overrule the plan when, on the endpoint's own recent traffic, its keep-alive would have cost more than
    (1 + REGRET_MARGIN) times the best yardstick (fixed timeouts from 0 to 240 minutes, the break-even among
    them, and never sleeping): then follow that yardstick instead. So the keep-alive the endpoint follows never
    costs more than 10% above always-on's or break-even's on the replayed recent past. Pre-warm plans are left
    alone: no fixed timeout prices them."""
    costs = history.expert_costs()
    if not costs or history.samples < 1 or plan.prewarm_minutes is not None:
        return plan  # a pre-warm plan has no yardstick here: fixed timeouts never pre-warm
    best_minutes = min(costs, key=lambda minutes: costs[minutes])
    best = costs[best_minutes]
    mine = _cost_at(costs, plan.keep_minutes)
    # one gap's hindsight is no evidence: the plan must be behind by more than a wake's cost too
    if mine - best <= max(REGRET_MARGIN * best, REGRET_SLACK_WAKES * cfg.breakeven_seconds) + 1e-9:
        return plan
    keep = math.inf if best_minutes is None else float(best_minutes)
    what = "stay awake" if best_minutes is None else f"keep alive {best_minutes} min"
    return Plan(
        keep_minutes=keep,
        expected_cost=plan.expected_cost,
        basis=f"{plan.basis}; overruled by the regret guard: {what} (its recent cost"
        f" {best / 60:.0f} min vs {mine / 60:.0f} min)",
    )


def _cost_at(costs: Mapping[int | None, float], keep_minutes: float) -> float:
    """The replayed cost of a keep-alive: that of the shortest yardstick at least as long (it catches the same
    gaps, and a few more)."""
    for minutes, cost in costs.items():
        if minutes is not None and minutes >= keep_minutes:
            return cost
    return costs[None]


def _compute_plan(cfg: PolicyConfig, history: IdleHistory) -> Plan:
    wake = cfg.wake_seconds / 60.0
    penalty = cfg.penalty_seconds / 60.0
    # Exposure still being counted is as good as it gets for now.
    exposure: dict[int, float] = {gap: float(value) for gap, value in history.exposure.items()}
    overflow_exposure = float(history.overflow_exposure)
    for gap, _, active in history.pending:
        if gap == 0:
            overflow_exposure += active
        else:
            exposure[gap] = exposure.get(gap, 0.0) + active
    # What a wake would make wait, as far as this endpoint has shown: the mean exposure of its gaps, or before any
    # gap its requests per active tick. The prior's pseudo-gaps carry it: with no evidence that wakes are cheap
    # (one request at a time), the plan does not sleep when ready.
    samples = history.samples
    if samples:
        volume = (sum(exposure.values()) + overflow_exposure) / samples
    else:
        volume = history.requests / history.active if history.active else 1.0
    # damped: the mean is pulled up by a few bursts, and a wake's waits are pro rata (tried on the bench: the
    # square root keeps the Azure 2019 day's p90 while still refusing to sleep when ready inside a burst)
    volume = max(1.0, volume) ** 0.5
    counts, exposure = smooth(history.counts, exposure, cfg.adaptive_smoothing)
    overflow = float(history.overflow)
    for gap, weight in _prior(cfg):
        if gap is None:
            overflow += weight
            overflow_exposure += weight * volume
        else:
            counts[gap] = counts.get(gap, 0.0) + weight
            exposure[gap] = exposure.get(gap, 0.0) + weight * volume
    plan = best_plan(counts, overflow, wake, penalty, exposure=exposure, overflow_exposure=overflow_exposure)
    learned = f"{samples} gap{'s' if samples != 1 else ''} seen"
    breakeven = cfg.breakeven_seconds / 60.0
    if samples < EVIDENCE_GAPS and plan.prewarm_minutes is None and plan.keep_minutes < breakeven:
        # safe start: no "sleep when ready" without evidence; the break-even is never worse than 2x a gap's best
        return Plan(
            breakeven,
            None,
            None,
            plan.expected_cost,
            f"{learned}: keep alive {breakeven:g} min (the break-even, until more gaps are seen)",
        )
    return Plan(
        plan.keep_minutes, plan.prewarm_minutes, plan.until_minutes, plan.expected_cost, f"{learned}: {plan.basis}"
    )


def _prior(cfg: PolicyConfig) -> list[tuple[int | None, float]]:
    """Pseudo-gaps at the worst case of each simple rule: just past W (for "sleep when ready"), just past the
    break-even (for the break-even timeout) and endless (for staying awake)."""
    weight = cfg.adaptive_prior_weight
    if weight <= 0:
        return []
    past_wake = min(HISTOGRAM_MINUTES, math.floor(cfg.wake_seconds / 60.0) + 1)
    past_breakeven = min(HISTOGRAM_MINUTES, math.floor(cfg.breakeven_seconds / 60.0) + 1)
    return [(past_wake, weight / 3), (past_breakeven, weight / 3), (None, weight / 3)]


SMOOTHING_POINTS = 5  # a spread gap is counted at this many evenly spaced whole minutes at most


def smooth(
    counts: Mapping[int, float], exposure: Mapping[int, float], spread: float
) -> tuple[dict[int, float], dict[int, float]]:
    """Spread each gap length g over g * (1 +- spread / sqrt(n)), n = how often g was seen, as a triangle around
    g counted at up to SMOOTHING_POINTS evenly spaced whole minutes (few points keep plans cheap)."""
    out_counts: dict[int, float] = {}
    out_exposure: dict[int, float] = {}
    for gap, count in counts.items():
        if count <= 0:
            continue
        gap_exposure = float(exposure.get(gap, count))
        width = spread / math.sqrt(count) if spread > 0 else 0.0
        low = max(1, math.floor(gap * (1 - width) + 0.5))
        high = min(HISTOGRAM_MINUTES, math.floor(gap * (1 + width) + 0.5))
        if high == low:
            out_counts[gap] = out_counts.get(gap, 0.0) + count
            out_exposure[gap] = out_exposure.get(gap, 0.0) + gap_exposure
            continue
        for minutes, share in _spread_points(low, high):
            out_counts[minutes] = out_counts.get(minutes, 0.0) + count * share
            out_exposure[minutes] = out_exposure.get(minutes, 0.0) + gap_exposure * share
    return out_counts, out_exposure


def _spread_points(low: int, high: int) -> tuple[tuple[int, float], ...]:
    """Up to SMOOTHING_POINTS evenly spaced minutes in [low, high], weighted like a triangle around the middle."""
    if high - low < SMOOTHING_POINTS:
        points = list(range(low, high + 1))
    else:
        step = (high - low) / (SMOOTHING_POINTS - 1)
        points = [low + math.floor(i * step + 0.5) for i in range(SMOOTHING_POINTS)]
    size = len(points)
    weights = [min(i + 1, size - i) for i in range(size)]
    total = float(sum(weights))
    return tuple((minutes, weight / total) for minutes, weight in zip(points, weights))


def best_plan(
    counts: Mapping[int, float],
    overflow: float,
    wake: float,
    penalty: float,
    *,
    exposure: Mapping[int, float] | None = None,
    overflow_exposure: float | None = None,
    min_sleep: float | None = None,
) -> Plan:
    """The plan with the least expected cost per gap over a histogram of gap lengths (all in minutes).

    `exposure[g]` is the number of waiting requests all gaps of length g would have caused had they found the
    endpoint asleep (default: one each). With c(g) = W + penalty * exposure of one such gap, a gap g costs,
    in minutes of the instance's price, under the plan (k, x, e) with k < x and x + W <= e:

        g <= k            g                       stayed awake
        k < g < x + W     k + c(g)                asleep, or still waking, when it came
        x + W <= g <= e   k + (g - x)             pre-warmed in time
        g > e             k + (e - x) + c(g)      pre-warmed in vain

    and without a pre-warm: g when g <= k, else k + c(g). Overflow gaps are longer than anything. A sleep
    before a pre-warm lasts at least `min_sleep` (default W): deleting an endpoint to recreate it moments later
    saves little and churns SageMaker.
    The sum separates into A(k) + C(x) + D(e). So the best plan is one pass over the distinct gap lengths,
    with a running minimum of A and a suffix minimum of D. k and e need only be tried at recorded gap lengths
    (the cost is linear in between), and x only where it makes the endpoint ready just as a recorded gap ends
    (x = g - W, rounded down to a whole minute).
    """
    values = sorted(g for g, n in counts.items() if n > 0)
    weights = [float(counts[g]) for g in values]
    total = sum(weights) + overflow
    if total <= 0:
        return Plan(keep_minutes=0.0, basis="no gaps: sleep when ready")
    if exposure is None:
        exposure = {}
    if overflow_exposure is None:
        overflow_exposure = overflow
    if min_sleep is None:
        min_sleep = wake
    # F[i], S[i], Q[i]: count, sum of lengths and sum of cold costs of the gaps values[:i]
    count = len(values)
    prefix_n, prefix_s, prefix_q = [0.0] * (count + 1), [0.0] * (count + 1), [0.0] * (count + 1)
    n_sum = s_sum = q_sum = 0.0
    for i, g in enumerate(values):
        n = weights[i]
        n_sum += n
        s_sum += n * g
        q_sum += n * wake + penalty * exposure.get(g, n)
        prefix_n[i + 1], prefix_s[i + 1], prefix_q[i + 1] = n_sum, s_sum, q_sum
    cold_total = q_sum + overflow * wake + penalty * overflow_exposure
    # D(e) = S + (N - F) e + (cold_total - Q) over the gaps <= e: the cost of keeping alive until e, then sleeping
    d_costs = [cold_total]  # D(0): sleep at once
    for i, g in enumerate(values, start=1):
        d_costs.append(prefix_s[i] + (total - prefix_n[i]) * g + (cold_total - prefix_q[i]))

    # Without a pre-warm: keep alive k in {0} | values.
    best, best_i = d_costs[0], 0
    for i in range(1, count + 1):
        if d_costs[i] < best - 1e-9:
            best, best_i = d_costs[i], i
    best_k = float(values[best_i - 1]) if best_i else 0.0
    plan = Plan(keep_minutes=best_k, expected_cost=best / total, basis=_basis(best_k, None, None))

    suffix: list[tuple[float, float]] = [(math.inf, 0.0)] * (count + 1)  # min D(e) over e in values[j:]
    for j in range(count - 1, -1, -1):
        cost = d_costs[j + 1]
        suffix[j] = (cost, float(values[j])) if cost < suffix[j + 1][0] else suffix[j + 1]
    # A(k) = S + k (N - F) - Q over the gaps <= k, for k in {0} | values; A(0) = 0
    a_best, a_k = 0.0, 0.0
    a_i = 0  # values[:a_i] are folded into the running minimum (every k <= x - min_sleep)
    for t, target in enumerate(values):
        x = math.floor(target - wake + 1e-9)
        if x < 1 or x < min_sleep:
            continue
        while a_i < count and values[a_i] <= x - min_sleep:
            g = values[a_i]
            a_i += 1
            a_cost = prefix_s[a_i] + g * (total - prefix_n[a_i]) - prefix_q[a_i]
            if a_cost < a_best:
                a_best, a_k = a_cost, float(g)
        # C(x): gaps shorter than x + W were met asleep or waking (or kept); values[t] >= x + W by construction
        c_i = bisect.bisect_left(values, x + wake, 0, t)
        c_cost = prefix_q[c_i] - prefix_s[c_i] - x * (total - prefix_n[c_i])
        e_cost, e = suffix[t]
        cost = a_best + c_cost + e_cost
        if cost < best - 1e-9:
            best = cost
            plan = Plan(
                keep_minutes=a_k,
                prewarm_minutes=float(x),
                until_minutes=e,
                expected_cost=best / total,
                basis=_basis(a_k, float(x), e),
            )
    return plan


def _basis(keep: float, prewarm: float | None, until: float | None) -> str:
    if prewarm is None:
        return "sleep when ready" if keep == 0 else f"keep alive {keep:g} min"
    kept = "sleep when ready" if keep == 0 else f"keep alive {keep:g} min"
    return f"{kept}, pre-warm at {prewarm:g} min, stay until {until:g} min"


__all__ = [
    "ALL_PRESETS",
    "Decision",
    "HISTOGRAM_MINUTES",
    "IdleHistory",
    "KEEP",
    "POLICY_NAMES",
    "PRESETS",
    "Plan",
    "PolicyConfig",
    "SLEEP",
    "SMOOTHING_POINTS",
    "WAKE",
    "best_plan",
    "decide",
    "penalty_rate",
    "plan_for",
    "smooth",
    "wait_cost",
]
