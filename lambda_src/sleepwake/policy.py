"""Idle policies: when to put an endpoint to sleep, and when to wake it before anyone asks.

Sleeping is a bet. Keeping an idle endpoint costs its hourly price; deleting it costs a wake later (W minutes of
billed instance time, plus a request that waits W minutes). This is the ski-rental problem, and every policy
here is a pure function of an endpoint's recorded history, its lease, its keep-warm schedule and the current
time: no clock reads, no AWS, standard library only (it runs in the manager Lambda every minute, and in the
simulator, `python -m sleepwake.simulate`, which replays traces through exactly this code).

Policies (`PolicyConfig.named` has the presets):

- `always-on`: never sleep; wake whenever asleep.
- `fixed`: sleep at the first check time (a multiple of `check_interval_seconds` since the epoch) at which the
  endpoint has been idle for `idle_timeout_seconds`, then after `post_alarm_wait_seconds` more. The presets
  reproduce the two designs this project grew from: `fixed-15-15` (15 idle minutes, checked every 15
  minutes: sleeps 15-30 minutes after the last request) and `alarm-3x5+5` (a CloudWatch alarm on no invocations
  in 3 x 5-minute periods, then a 5-minute wait: 20-25 minutes). Both are modelled in their most favourable
  reading: activity counts at the start of its minute, and a check exactly a timeout later already sleeps.
- `breakeven`: `fixed` with the ski-rental break-even timeout, wake cost / hourly price = W + the cold-start
  penalty (both in minutes of the instance's price), checked every minute. Never worse than 2x the offline
  optimum on a gap; never better either when the next request is predictable.
- `adaptive` (the default): the hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC
  2020), adapted to a wake delay W. Each endpoint keeps a bounded histogram of its idle gaps (one-minute bins up
  to `HISTOGRAM_MINUTES`, plus an overflow count). After each request the policy follows a plan
  (keep k, pre-warm x, until e), all in minutes after the last activity:

      stay awake until k;  then sleep;  wake again at x so that it is ready at x + W;  stay awake until e;  sleep.

  The paper picks the plan from percentiles (pre-warm at the 5th percentile "head" of the idle-time
  distribution, keep alive through the 99th percentile "tail"). With a billed, multi-minute wake a percentile
  is a poor proxy for money, so the plan minimises the expected cost over the recorded gaps instead: the price
  of staying awake, of each wake (W) and of each cold start (the penalty), exactly as the simulator counts
  them. Pre-warm times are the head of a cluster of gaps minus W (the paper's "0.9 x head - W", with the
  margin chosen by the same cost rather than a fixed 10%), and the keep-alive ends at the tail of a cluster.
  Until the histogram is representative (fewer than `adaptive_min_samples` gaps) the policy falls back to the
  break-even timeout, the best a policy that knows nothing can do. The recorded gaps are also blended with a
  small prior (`adaptive_prior_weight` pseudo-gaps at the break-even point's worst cases), so a handful of
  lucky gaps cannot talk it into an aggressive plan. The plan costs O(distinct gap lengths) to compute and is
  cached per history, so `decide` stays cheap for fleets of hundreds of endpoints.

A lease (`lease_until > now`) keeps an endpoint awake (and wakes it). A keep-warm schedule keeps it awake
inside its windows and wakes it W before each window starts. The manager adds its own safety rules (grace
after InService, protection) on top.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from .schedule import KeepWarm

KEEP, SLEEP, WAKE = "keep", "sleep", "wake"
POLICY_NAMES = ("always-on", "fixed", "breakeven", "adaptive")

# Idle gaps longer than this go to the overflow count (the paper's 4-hour histogram range).
HISTOGRAM_MINUTES = 240
# When the histogram holds more gaps than this, every count is halved, so old habits fade.
HISTOGRAM_MAX_SAMPLES = 10_000
HISTORY_SHAPE_VERSION = 1


@dataclass(frozen=True)
class PolicyConfig:
    """Everything a policy needs besides the endpoint's history; built from settings or CLI options."""

    name: str  # one of POLICY_NAMES
    wake_seconds: float  # W: from the start of a wake until the endpoint serves
    hourly_price: float
    idle_timeout_seconds: float = 900.0  # fixed
    check_interval_seconds: float = 60.0  # fixed: decisions only at multiples of this since the epoch
    post_alarm_wait_seconds: float = 0.0  # fixed: a further wait after the check that found it idle
    cold_start_penalty_seconds: float | None = None  # the worth of one waiting request, in seconds of price; None = W
    adaptive_min_samples: int = 8  # gaps needed before the histogram is trusted
    adaptive_prior_weight: float = 1.0  # pseudo-gaps blended into the histogram (see _prior)
    label: str | None = None  # preset name, for tables and logs

    def __post_init__(self) -> None:
        if self.name not in POLICY_NAMES:
            raise ValueError(f"unknown policy {self.name!r}; valid: {', '.join(POLICY_NAMES)}")
        for attr in ("wake_seconds", "hourly_price", "idle_timeout_seconds", "post_alarm_wait_seconds",
                     "adaptive_prior_weight"):
            value = getattr(self, attr)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{attr} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.check_interval_seconds, (int, float)) or not self.check_interval_seconds > 0:
            raise ValueError(f"check_interval_seconds must be > 0, got {self.check_interval_seconds!r}")
        penalty = self.cold_start_penalty_seconds
        if penalty is not None and (not isinstance(penalty, (int, float)) or not math.isfinite(penalty)
                                    or penalty < 0):
            raise ValueError(f"cold_start_penalty_seconds must be a finite number >= 0 or None, got {penalty!r}")
        if not isinstance(self.adaptive_min_samples, int) or self.adaptive_min_samples < 1:
            raise ValueError(f"adaptive_min_samples must be an integer >= 1, got {self.adaptive_min_samples!r}")

    @property
    def penalty_seconds(self) -> float:
        return self.wake_seconds if self.cold_start_penalty_seconds is None else self.cold_start_penalty_seconds

    @property
    def breakeven_seconds(self) -> float:
        """Idle time that costs as much as one wake: W of billing plus one cold start."""
        return self.wake_seconds + self.penalty_seconds

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @classmethod
    def named(cls, name: str, **kw: Any) -> "PolicyConfig":
        """A preset (`PRESETS`) or a plain policy name, with `wake_seconds`, `hourly_price` and overrides in kw."""
        if name not in PRESETS:
            raise ValueError(f"unknown policy {name!r}; valid: {', '.join(PRESETS)}")
        params: dict[str, Any] = {"label": name, **PRESETS[name]}
        params.update(kw)
        missing = [key for key in ("wake_seconds", "hourly_price") if key not in params]
        if missing:
            raise TypeError(f"PolicyConfig.named({name!r}) needs {' and '.join(missing)}")
        return cls(**params)


# Presets; `--policy all` in the simulator runs every one of them, in this order.
PRESETS: dict[str, dict[str, Any]] = {
    "always-on": {"name": "always-on"},
    "fixed-15-15": {"name": "fixed", "idle_timeout_seconds": 900.0, "check_interval_seconds": 900.0},
    "alarm-3x5+5": {"name": "fixed", "idle_timeout_seconds": 900.0, "check_interval_seconds": 300.0,
                    "post_alarm_wait_seconds": 300.0},
    "breakeven": {"name": "breakeven"},
    "adaptive": {"name": "adaptive"},
    "fixed": {"name": "fixed"},
}
ALL_PRESETS = ("always-on", "fixed-15-15", "alarm-3x5+5", "breakeven", "adaptive")


# --------------------------------------------------------------------------------------------------- history
@dataclass
class IdleHistory:
    """An endpoint's idle gaps: a bounded histogram in whole minutes, stored by the manager in DynamoDB.

    `observe` is called once per manager tick with the endpoint's latest recorded activity. A new activity time
    records the gap since the previous one, rounded to whole minutes (at least 1): several requests between two
    ticks are one minute of activity, exactly as in the simulator's per-minute replay.
    """

    last_activity: float | None = None
    counts: dict[int, int] = field(default_factory=dict)  # gap minutes (1..HISTOGRAM_MINUTES) -> count
    overflow: int = 0  # gaps longer than HISTOGRAM_MINUTES
    # The plan derived from this history, per policy config (not stored; recomputed on demand).
    _plans: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def samples(self) -> int:
        return sum(self.counts.values()) + self.overflow

    def observe(self, now: float, last_activity: float | None) -> "IdleHistory":
        """The history after a tick at `now` that saw `last_activity`; `self` when nothing new happened."""
        if last_activity is None:
            return self
        previous = self.last_activity
        if previous is not None and last_activity <= previous:
            return self
        if previous is None:
            return IdleHistory(last_activity=last_activity, counts=dict(self.counts), overflow=self.overflow)
        gap = max(1, int(math.floor((last_activity - previous) / 60.0 + 0.5)))
        counts = dict(self.counts)
        overflow = self.overflow
        if gap > HISTOGRAM_MINUTES:
            overflow += 1
        else:
            counts[gap] = counts.get(gap, 0) + 1
        if sum(counts.values()) + overflow > HISTOGRAM_MAX_SAMPLES:
            counts = {minutes: n // 2 for minutes, n in counts.items() if n // 2}
            overflow //= 2
        return IdleHistory(last_activity=last_activity, counts=counts, overflow=overflow)

    def to_item(self) -> dict:
        return {
            "v": HISTORY_SHAPE_VERSION,
            "last_activity": self.last_activity,
            "bins": [[minutes, self.counts[minutes]] for minutes in sorted(self.counts)],
            "overflow": self.overflow,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> "IdleHistory":
        """Tolerates None, missing fields and numbers stored as Decimal or strings; rejects corrupt values."""
        if not item:
            return cls()
        if not isinstance(item, Mapping):
            raise ValueError(f"idle history must be a map, got {type(item).__name__}")
        last = item.get("last_activity")
        if last is not None:
            last = _number(last, "last_activity")
        counts: dict[int, int] = {}
        bins = item.get("bins", [])
        if isinstance(bins, Mapping):  # an older or hand-written shape: {"minutes": count}
            bins = list(bins.items())
        if not isinstance(bins, (list, tuple)):
            raise ValueError("idle history field 'bins' must be a list of [minutes, count] pairs")
        for pair in bins:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError(f"idle history field 'bins' holds {pair!r}, not a [minutes, count] pair")
            minutes = _count(pair[0], "bins")
            count = _count(pair[1], "bins")
            if not 1 <= minutes <= HISTOGRAM_MINUTES:
                raise ValueError(f"idle history field 'bins' has a gap of {minutes} minutes, "
                                 f"outside 1..{HISTOGRAM_MINUTES}")
            if count:
                counts[minutes] = counts.get(minutes, 0) + count
        overflow = _count(item.get("overflow", 0), "overflow")
        return cls(last_activity=last, counts=counts, overflow=overflow)


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"idle history field {name!r} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"idle history field {name!r} is not finite: {value!r}")
    return number


def _count(value: Any, name: str) -> int:
    number = _number(value, name)
    if number < 0 or number != int(number):
        raise ValueError(f"idle history field {name!r} must hold whole numbers >= 0, got {value!r}")
    return int(number)


# ----------------------------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class Decision:
    """`action` is relative to the current state: awake -> keep | sleep; asleep -> keep | wake."""

    action: str  # "keep" | "sleep" | "wake"
    reason: str
    sleep_at: float | None = None  # while awake: when it would sleep if no new activity arrives
    wake_at: float | None = None  # while asleep: planned pre-warm (or keep-warm) wake time, if any


@dataclass(frozen=True)
class Plan:
    """What to do after the last activity, in minutes after it (the adaptive policy's bet)."""

    keep_minutes: float  # stay awake this long, then sleep
    prewarm_minutes: float | None = None  # start a wake this long after the last activity
    until_minutes: float | None = None  # after a pre-warm, stay awake until this long after the last activity
    expected_cost: float = 0.0  # per gap, in minutes of the instance's price
    basis: str = ""


def decide(cfg: PolicyConfig, history: IdleHistory, *, now: float, awake: bool, awake_since: float | None,
           lease_until: float | None = None, keep_warm: "KeepWarm | None" = None) -> Decision:
    """keep / sleep / wake for one endpoint at `now`.

    The answer stays the same until `sleep_at` (awake) or `wake_at` (asleep) unless new activity arrives, which
    is what lets the simulator jump from event to event.
    """
    base = _base_decision(cfg, history, now=now, awake=awake, awake_since=awake_since)
    hold_until: float | None = None
    hold_reason = ""
    if lease_until is not None and lease_until > now:
        hold_until, hold_reason = lease_until, f"leased until {_hhmm(lease_until)}"
    if keep_warm is not None:
        warm_end = _keep_warm_hold(keep_warm, now, cfg.wake_seconds)
        if warm_end is not None and (hold_until is None or warm_end > hold_until):
            hold_until, hold_reason = warm_end, f"keep-warm window until {_hhmm(warm_end)}"
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
                return Decision(KEEP, f"{base.reason}; waking at {_hhmm(warm_at)} for the keep-warm window",
                                None, warm_at)
    return base


def _keep_warm_hold(keep_warm: "KeepWarm", now: float, wake_seconds: float) -> float | None:
    """End of the keep-warm claim covering `now` (a window, or the W before one starts), else None."""
    if keep_warm.active(now):
        return keep_warm.current_end(now)
    start = keep_warm.next_start(now)
    if start is not None and start - wake_seconds <= now:
        return keep_warm.current_end(start)
    return None


def _base_decision(cfg: PolicyConfig, history: IdleHistory, *, now: float, awake: bool,
                   awake_since: float | None) -> Decision:
    name = cfg.name
    if name == "always-on":
        return Decision(KEEP, "always on", None, None) if awake else Decision(WAKE, "always on: waking", None, now)
    if name == "adaptive":
        return _adaptive(cfg, history, now=now, awake=awake, awake_since=awake_since)
    if not awake:
        return Decision(KEEP, "asleep until a request", None, None)
    timeout = cfg.breakeven_seconds if name == "breakeven" else cfg.idle_timeout_seconds
    interval = cfg.check_interval_seconds if name == "fixed" else 60.0
    wait = cfg.post_alarm_wait_seconds if name == "fixed" else 0.0
    reference = _latest(history.last_activity, awake_since)
    if reference is None:
        reference = now
    sleep_at = math.ceil((reference + timeout) / interval) * interval + wait
    idle_min = (now - reference) / 60.0
    if now >= sleep_at:
        return Decision(SLEEP, f"idle {idle_min:.0f} min (timeout {timeout / 60:.0f} min)", now, None)
    return Decision(KEEP, f"idle {idle_min:.0f} min; sleeps at {_hhmm(sleep_at)} unless a request comes", sleep_at,
                    None)


def _adaptive(cfg: PolicyConfig, history: IdleHistory, *, now: float, awake: bool,
              awake_since: float | None) -> Decision:
    plan = plan_for(cfg, history)
    last = history.last_activity
    if last is None:  # never used: nothing to predict from
        if not awake:
            return Decision(KEEP, "asleep until a request (no activity recorded yet)", None, None)
        reference = awake_since if awake_since is not None else now
        sleep_at = reference + plan.keep_minutes * 60.0
        if now >= sleep_at:
            return Decision(SLEEP, f"no activity recorded; {plan.basis}", now, None)
        return Decision(KEEP, f"no activity recorded yet; {plan.basis}", sleep_at, None)
    prewarm_at = until = None
    if plan.prewarm_minutes is not None:
        prewarm_at = last + plan.prewarm_minutes * 60.0
        until = last + plan.until_minutes * 60.0  # type: ignore[operator]
    if not awake:
        if prewarm_at is None or now + cfg.wake_seconds > until:  # type: ignore[operator]
            return Decision(KEEP, f"asleep until a request; {plan.basis}", None, None)
        if now >= prewarm_at:
            return Decision(WAKE, f"pre-warming: the next request is expected from {_hhmm(prewarm_at + cfg.wake_seconds)};"
                                  f" {plan.basis}", None, now)
        return Decision(KEEP, f"asleep; pre-warm at {_hhmm(prewarm_at)}; {plan.basis}", None, prewarm_at)
    if prewarm_at is not None and awake_since is not None and prewarm_at <= awake_since < until:  # type: ignore[operator]
        sleep_at = until
    else:
        sleep_at = max(last, awake_since if awake_since is not None else last) + plan.keep_minutes * 60.0
    if now >= sleep_at:  # type: ignore[operator]
        return Decision(SLEEP, f"idle {(now - last) / 60:.0f} min; {plan.basis}", now, None)
    return Decision(KEEP, f"idle {(now - last) / 60:.0f} min; sleeps at {_hhmm(sleep_at)} unless a request comes; "  # type: ignore[arg-type]
                          f"{plan.basis}", sleep_at, None)


def _latest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a > b else b


def _hhmm(epoch: float) -> str:
    seconds = int(epoch) % 86400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d} UTC"


# ------------------------------------------------------------------------------------------- adaptive plan
def plan_for(cfg: PolicyConfig, history: IdleHistory) -> Plan:
    """The adaptive plan for this history (cached on the history object, which never changes in place)."""
    key = (cfg.wake_seconds, cfg.penalty_seconds, cfg.adaptive_min_samples, cfg.adaptive_prior_weight)
    plan = history._plans.get(key)
    if plan is None:
        plan = _compute_plan(cfg, history)
        history._plans[key] = plan
    return plan


def _compute_plan(cfg: PolicyConfig, history: IdleHistory) -> Plan:
    wake = cfg.wake_seconds / 60.0
    penalty = cfg.penalty_seconds / 60.0
    breakeven = wake + penalty
    samples = history.samples
    if samples < cfg.adaptive_min_samples:
        return Plan(keep_minutes=breakeven, basis=f"learning ({samples} of {cfg.adaptive_min_samples} gaps seen):"
                                                  f" break-even keep-alive {breakeven:.0f} min")
    counts = dict(history.counts)
    overflow = float(history.overflow)
    for minutes, weight in _prior(cfg, samples):
        if minutes is None:
            overflow += weight
        else:
            counts[minutes] = counts.get(minutes, 0) + weight
    return best_plan(counts, overflow, wake, penalty)


def _prior(cfg: PolicyConfig, samples: int) -> list[tuple[int | None, float]]:
    """Pseudo-gaps that keep a small sample honest: half at the overflow, half just past the break-even.

    A gap just past the break-even is the worst case for a keep-alive, an endless gap the worst case for
    staying awake; together they pull a thin histogram towards the break-even timeout.
    """
    weight = cfg.adaptive_prior_weight
    if weight <= 0:
        return []
    past = min(HISTOGRAM_MINUTES, int(math.ceil(cfg.breakeven_seconds / 60.0)) + 1)
    return [(None, weight / 2), (past, weight / 2)]


def best_plan(counts: Mapping[int, float], overflow: float, wake: float, penalty: float) -> Plan:
    """The plan with the least expected cost per gap over this histogram of gap lengths (minutes).

    Cost of one gap g (in minutes of the instance's price) under the plan (k, x, e), k < x, x + W <= e:

        g <= k            g                      stayed awake
        k < g < x + W     k + W + penalty        asleep or still waking when it came: a cold start
        x + W <= g <= e   k + (g - x)            pre-warmed in time
        g > e             k + (e - x) + W + penalty

    and without pre-warm: g if g <= k, else k + W + penalty. Overflow gaps count as longer than anything.
    The sum separates into A(k) + C(x) + D(e), so the best plan is one pass over the distinct gap lengths with
    a prefix minimum of A and a suffix minimum of D. A pre-warm is only worth trying so that the endpoint is
    ready exactly when a recorded gap ends (x = g - W, rounded down to a whole minute), and k and e only at
    recorded gap lengths, because each term is linear in between.
    """
    values = sorted(m for m, n in counts.items() if n > 0)
    weights = [float(counts[m]) for m in values]
    total = sum(weights) + overflow
    if total <= 0:
        return Plan(keep_minutes=wake + penalty, basis="no gaps")
    cold = wake + penalty
    # F[i], S[i]: count and sum of gaps among values[:i]
    prefix_n = [0.0]
    prefix_s = [0.0]
    for m, n in zip(values, weights):
        prefix_n.append(prefix_n[-1] + n)
        prefix_s.append(prefix_s[-1] + n * m)

    def d_cost(i: int, e: float) -> float:  # gaps values[:i] are <= e
        return prefix_s[i] + (total - prefix_n[i]) * (e + cold)

    # No pre-warm: keep alive k in {0} | values.
    best_k, best = 0.0, d_cost(0, 0.0)
    for i, m in enumerate(values, start=1):
        cost = d_cost(i, float(m))
        if cost < best:
            best, best_k = cost, float(m)
    plan = Plan(keep_minutes=best_k, expected_cost=best / total,
                basis=_basis_text(best_k, None, None, total))

    # Pre-warm: D suffix minima over e in values[j:], A prefix minima over k in {0} | values.
    count = len(values)
    suffix: list[tuple[float, float]] = [(math.inf, 0.0)] * (count + 1)
    for j in range(count - 1, -1, -1):
        cost = d_cost(j + 1, float(values[j]))
        suffix[j] = (cost, float(values[j])) if cost < suffix[j + 1][0] else suffix[j + 1]
    # A(k) for k in {0} | values, in order; A(0) = 0
    a_items = [(0.0, 0.0)]
    for i, m in enumerate(values, start=1):
        a_items.append((prefix_s[i] + m * (total - prefix_n[i]) - cold * prefix_n[i], float(m)))
    a_best, a_k = a_items[0]
    a_i = 0  # a_items[:a_i + 1] have been folded into the prefix minimum (all k < x)
    for t, target in enumerate(values):
        x = math.floor(target - wake + 1e-9)
        if x < 1:
            continue
        # C(x): gaps below x + W (strictly) were met cold or kept; values[t] >= x + W by construction
        c_i = bisect.bisect_left(values, x + wake, 0, t)
        c_cost = cold * prefix_n[c_i] - prefix_s[c_i] - x * (total - prefix_n[c_i])
        # A: k < x, k in {0} | values
        while a_i + 1 < len(a_items) and a_items[a_i + 1][1] < x:
            a_i += 1
            if a_items[a_i][0] < a_best:
                a_best, a_k = a_items[a_i]
        e_cost, e = suffix[t]
        cost = a_best + c_cost + e_cost
        if cost < best - 1e-9:
            best = cost
            plan = Plan(keep_minutes=a_k, prewarm_minutes=float(x), until_minutes=e, expected_cost=best / total,
                        basis=_basis_text(a_k, float(x), e, total))
    return plan


def _basis_text(keep: float, prewarm: float | None, until: float | None, samples: float) -> str:
    if prewarm is None:
        return f"histogram of {samples:.0f} gaps: keep alive {keep:.0f} min"
    return (f"histogram of {samples:.0f} gaps: keep alive {keep:.0f} min, pre-warm at {prewarm:.0f} min, "
            f"stay until {until:.0f} min")


__all__ = [
    "ALL_PRESETS", "Decision", "HISTOGRAM_MINUTES", "IdleHistory", "POLICY_NAMES", "PRESETS", "Plan",
    "PolicyConfig", "best_plan", "decide", "plan_for",
]
