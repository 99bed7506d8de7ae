"""The simulation engine: one endpoint's requests replayed through an idle policy, and the reference costs.

The model, exact and deliberately simple:

- Time comes in bins (one minute in the Azure format; a timestamp,count CSV keeps its own bins). The requests
  of a bin all arrive at its start and take no time to serve.
- The endpoint starts asleep. A wake started at s makes it ready at s + W and is billed from s until it is
  deleted (or the trace ends). A request that finds it asleep starts a wake and waits until it is ready; one
  that finds it waking waits until it is ready. A request with a wait > 0 is a cold start and costs a penalty
  pro rata to its wait: `--cold-start-penalty-minutes` of the instance's price for a wait of a whole wake W
  (`policy.wait_cost`, the one cost model of the plan, the simulator and the optima). Total cost = billing +
  penalties.
- The policy (`sleepwake.domain.policy.decide`, the manager's own code) is consulted at every tick, one minute apart
  from the start of the trace, after the requests of that instant. It can wake a sleeping endpoint (pre-warm)
  or delete a ready one. An endpoint that is still waking is never deleted, nor one ready for less than
  `--min-ready-minutes` (the manager's grace period after InService; by default the manager's own default, 2).
- The idle history is fed exactly as the manager feeds it: `IdleHistory.observe(tick, last activity, requests)`
  once per tick, where the activity is a request's arrival and `requests` how many came since the previous
  tick (the manager's `request_count`); `--no-request-counts` replays a manager that is told times only.
- For speed the replay jumps from event to event (a request, a wake becoming ready, the decision's own
  `sleep_at` / `wake_at`); `simulate_endpoint(..., jump=False)` ticks every minute instead, and the tests
  check that both give identical results.

Reference costs, per endpoint:

- offline optimum: the cheapest schedule that knows the future but wakes only on a request, under the same
  rules as the policies: deletes at ticks only, never within the grace after ready nor the in-flight guard
  after a request. Requests that arrive while a wake is under way wait too, so neighbouring gaps interact. The
  exact optimum is a dynamic programme over the requests with two states, "asleep when request i arrives" and
  "ready when request i arrives" (`offline_optimum`). It bounds every policy that never pre-warms.
- clairvoyant optimum: a lower bound for every schedule, pre-warming ones included (`clairvoyant_optimum`): per
  gap between requests the cheaper of staying awake and another wake. Always-on wakes at the trace's first tick
  (a pre-warm unless a request comes then) and is held to this bound; the clairvoyant may not wake before the
  trace starts either.

- best fixed timeout in hindsight (`--hindsight`): the `fixed` timeout, checked every minute, that would have
  cost least on this endpoint's whole trace (`hindsight_fixed`). No online policy can know it in advance; the
  distance between it and a learning policy is the price of learning each endpoint's traffic as it comes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sleepwake.domain.lifecycle import IN_FLIGHT_GUARD_SECONDS
from sleepwake.domain.policy import SLEEP, WAKE, IdleHistory, PolicyConfig, decide, penalty_rate, wait_cost


@dataclass(frozen=True)
class EndpointTrace:
    """One endpoint's requests: bins with at least one request, as (start time, count), in time order."""

    name: str
    start: float  # epoch seconds of the first bin
    end: float  # epoch seconds when the trace ends (exclusive)
    bin_seconds: float
    requests: tuple[tuple[float, int], ...]

    @property
    def total_requests(self) -> int:
        return sum(count for _, count in self.requests)


TICK_SECONDS = 60.0
DEFAULT_WAKE_MINUTES = 8.0
DEFAULT_INSTANCE_TYPE = "ml.g4dn.xlarge"


@dataclass
class EndpointResult:
    """One policy on one endpoint. Costs in seconds of the instance's price (price-independent)."""

    billed_seconds: float = 0.0
    requests: int = 0
    cold_starts: int = 0  # requests that waited
    wakes: int = 0
    prewarms: int = 0  # wakes the policy started without a waiting request
    waits: dict[float, int] = field(default_factory=dict)  # wait in seconds -> requests (cold starts only)
    penalty_seconds: float = 0.0  # the waits' penalties (`policy.wait_cost`)

    def cost_seconds(self) -> float:
        return self.billed_seconds + self.penalty_seconds

    def as_tuple(self) -> tuple:
        return (
            self.billed_seconds,
            self.requests,
            self.cold_starts,
            self.wakes,
            self.prewarms,
            tuple(sorted(self.waits.items())),
            self.penalty_seconds,
        )


# ----------------------------------------------------------------------------------------------- the replay
def simulate_endpoint(
    trace: EndpointTrace,
    cfg: PolicyConfig,
    *,
    jump: bool = True,
    keep_warm: Any = None,
    min_ready_seconds: float = 0.0,
    request_counts: bool = True,
) -> EndpointResult:
    """Replay one endpoint's trace through one policy (see the module docstring for the model).

    `jump=False` consults the policy at every tick instead of jumping between events (same result, slower).
    `min_ready_seconds` models the manager's grace period: no deletion sooner than this after becoming ready.
    `request_counts` tells the idle history how many requests came at each tick, as the manager does (apps and
    the gateway add to the endpoint's request count); False replays a manager told activity times only.
    """
    wake = cfg.wake_seconds
    rate = cfg.penalty_rate
    start, end = trace.start, trace.end
    requests = trace.requests
    n_requests = len(requests)
    result = EndpointResult()
    waits = result.waits

    asleep, waking, ready = 0, 1, 2
    state = asleep
    wake_start: float | None = None
    ready_at = 0.0
    history = IdleHistory()
    last_activity: float | None = None
    i = 0  # next request
    k = 0  # tick index: the tick is at start + k * TICK_SECONDS
    n_ticks = max(0, math.ceil((end - start) / TICK_SECONDS - 1e-9))

    while k < n_ticks:
        now = start + k * TICK_SECONDS
        # the requests up to and including this instant, each at its own time
        arrived = 0
        while i < n_requests and requests[i][0] <= now:
            when, count = requests[i]
            i += 1
            arrived += count
            result.requests += count
            if state == asleep:
                state, wake_start, ready_at = waking, when, when + wake
                result.wakes += 1
            elif state == waking and when >= ready_at:
                state = ready
            if state == waking:
                wait = ready_at - when
                result.cold_starts += count
                waits[wait] = waits.get(wait, 0) + count
                result.penalty_seconds += wait_cost(wait, count, rate)
            last_activity = when
        if state == waking and now >= ready_at:
            state = ready
        history = history.observe(
            now,
            last_activity,
            wake_seconds=wake,
            requests=arrived if request_counts else None,
            penalty_seconds=cfg.penalty_seconds,
            grace_seconds=min_ready_seconds,
        )
        decision = decide(cfg, history, now=now, awake=state != asleep, awake_since=wake_start, keep_warm=keep_warm)
        action = decision.action
        if state == asleep:
            if action == WAKE:
                state, wake_start, ready_at = waking, now, now + wake
                result.wakes += 1
                result.prewarms += 1
                next_event = ready_at
            else:
                next_event = decision.wake_at
        else:
            # never deleted while waking, within `min_ready_seconds` of becoming ready, nor while a request may
            # still be running (the manager's in-flight guard)
            deletable_at = max(
                ready_at + min_ready_seconds,
                (last_activity if last_activity is not None else -math.inf) + IN_FLIGHT_GUARD_SECONDS,
            )
            if action == SLEEP and state == ready and now >= deletable_at:
                result.billed_seconds += now - wake_start  # type: ignore[operator]
                state, wake_start = asleep, None
                next_event = now + TICK_SECONDS  # what comes next is decided at the next tick
            elif action == SLEEP:
                next_event = deletable_at
            elif decision.sleep_at is None:
                next_event = None
            else:
                next_event = max(deletable_at, decision.sleep_at)
        if not jump:
            k += 1
            continue
        upcoming = requests[i][0] if i < n_requests else math.inf
        if next_event is not None and next_event < upcoming:
            upcoming = next_event
        if upcoming == math.inf:
            break
        k_next = math.ceil((upcoming - start) / TICK_SECONDS - 1e-9)
        k = k_next if k_next > k else k + 1

    # requests after the last tick
    while i < n_requests:
        when, count = requests[i]
        i += 1
        result.requests += count
        if state == asleep:
            state, wake_start, ready_at = waking, when, when + wake
            result.wakes += 1
        elif state == waking and when >= ready_at:
            state = ready
        if state == waking:
            wait = ready_at - when
            result.cold_starts += count
            waits[wait] = waits.get(wait, 0) + count
            result.penalty_seconds += wait_cost(wait, count, rate)
    if state != asleep:
        result.billed_seconds += end - wake_start  # type: ignore[operator]
    return result


# ------------------------------------------------------------------------------------------ reference costs
@dataclass(frozen=True)
class Optimum:
    cost_seconds: float  # billing + penalties, in seconds of the instance's price
    billed_seconds: float
    cold_starts: int


def offline_optimum(
    trace: EndpointTrace,
    wake_seconds: float,
    penalty_seconds: float,
    *,
    min_ready_seconds: float = 0.0,
    guard_seconds: float = 0.0,
    tick_seconds: float | None = None,
) -> Optimum:
    """The cheapest schedule that knows the future and wakes only on requests (costs in seconds of price), under
    the simulator's rules: deletes only at ticks (`tick_seconds` apart from the trace's start; None = any time),
    never within `min_ready_seconds` of becoming ready (the grace) nor `guard_seconds` of the latest request
    (the in-flight guard), and every waiting request's penalty pro rata to its wait (`policy.wait_cost`).

    Requests r_0 < r_1 < ... with counts c_i. Two values per request:
      asleep[i]: least cost of everything before r_i, given the endpoint is asleep when r_i arrives;
      ready[i]:  least cost up to r_i, given it is ready when r_i arrives and the grace no longer binds (billing
                 counted up to r_i).
    A wake at r_a is ready at R = r_a + W; every request in [r_a, R) waits until R. Then, for each request r_j
    served by this wake while the grace still binds, it may sleep at the first tick D_j >= max(R + grace,
    r_j + guard), if that comes before r_{j+1} (-> asleep[j+1]); the first r_j past the grace goes to ready[j].
    From ready[j] it sleeps at the first tick D >= r_j + guard if that is before r_{j+1}, or stays to r_{j+1}.
    Sleeping any later than the earliest allowed tick before the next request only costs more, and an endpoint is
    never deleted while waking. Billing stops at the end of the trace. The answer is asleep[n].
    """
    reqs = trace.requests
    n = len(reqs)
    if n == 0:
        return Optimum(0.0, 0.0, 0)
    rate = penalty_rate(wake_seconds, penalty_seconds)
    start, end = trace.start, trace.end

    def earliest_delete(at: float) -> float:
        if tick_seconds is None:
            return at
        return start + math.ceil((at - start) / tick_seconds - 1e-9) * tick_seconds

    none = (math.inf, 0.0, 0)
    asleep: list[tuple[float, float, int]] = [none] * (n + 1)  # (cost, billed, cold starts)
    ready: list[tuple[float, float, int]] = [none] * (n + 1)
    asleep[0] = (0.0, 0.0, 0)

    def offer(table: list, index: int, value: tuple[float, float, int]) -> None:
        if value[0] < table[index][0]:
            table[index] = value

    b = 0
    for i in range(n):
        r_i = reqs[i][0]
        cost, billed, cold = asleep[i]
        if cost < math.inf:
            ready_time = r_i + wake_seconds
            b = max(b, i)
            while b < n and reqs[b][0] < ready_time:
                b += 1
            penalty = 0.0
            waited_requests = 0
            for j in range(i, b):
                when, count = reqs[j]
                penalty += wait_cost(ready_time - when, count, rate)
                waited_requests += count if ready_time > when else 0
            base = (cost + penalty, billed, cold + waited_requests)
            grace_end = ready_time + min_ready_seconds
            for j in range(max(b - 1, i), n):
                r_j = reqs[j][0]
                if j >= b and grace_end <= r_j + guard_seconds:
                    offer(ready, j, (base[0] + r_j - r_i, base[1] + r_j - r_i, base[2]))
                    break
                delete = earliest_delete(max(grace_end, r_j + guard_seconds))
                if j + 1 == n or delete < reqs[j + 1][0]:
                    awake = min(delete, end) - r_i
                    offer(asleep, j + 1, (base[0] + awake, base[1] + awake, base[2]))
        cost, billed, cold = ready[i]
        if cost < math.inf:
            delete = earliest_delete(r_i + guard_seconds)
            if i + 1 == n or delete < reqs[i + 1][0]:
                awake = min(delete, end) - r_i
                offer(asleep, i + 1, (cost + awake, billed + awake, cold))
            if i + 1 < n:
                stay = reqs[i + 1][0] - r_i
                offer(ready, i + 1, (cost + stay, billed + stay, cold))
    return Optimum(*asleep[n])


def clairvoyant_optimum(trace: EndpointTrace, wake_seconds: float, penalty_seconds: float | None = None) -> float:
    """A lower bound on every schedule, pre-warming ones included (costs in seconds of price).

    Cut time at the requests and give each request its wait. Before a request at b that finds the endpoint not
    ready since the previous request a, a wake started at some s <= b: the awake time in [s, b) plus b's wait
    is (b - s) + rate * max(0, s + W - b) >= min(W, rate * W). So each gap costs at least min(gap, W, rate * W),
    and the first request at least the cheaper of waiting a whole wake (rate * W) and a wake started as early as
    the trace allows, no sooner than its start (x + rate * (W - x), x = min(W, first - start)): always-on, which
    wakes at the trace's first tick, is bounded too. With the default penalty (= W): W + sum of min(gap, W).
    """
    reqs = trace.requests
    if not reqs:
        return 0.0
    wake = wake_seconds
    rate = penalty_rate(wake, wake if penalty_seconds is None else penalty_seconds)
    lead = max(0.0, min(wake, reqs[0][0] - trace.start))
    cost = min(rate * wake, lead + rate * (wake - lead))
    per_gap = min(wake, rate * wake)
    for (a, _), (b, _) in zip(reqs, reqs[1:]):
        cost += min(b - a, per_gap)
    return cost


def hindsight_fixed(
    trace: EndpointTrace,
    wake_seconds: float,
    penalty_seconds: float,
    *,
    hourly_price: float = 1.0,
    min_ready_seconds: float = 0.0,
    keep_warm: Any = None,
) -> tuple[float, EndpointResult]:
    """The best `fixed` timeout for this trace, chosen knowing all of it: (timeout in seconds, its result).

    Checked every minute, like `breakeven`. The candidates are 0 and every idle gap in the trace: a timeout
    between two neighbouring gap lengths lets the same requests find the endpoint asleep and only bills more,
    so nothing in between is cheaper. No online policy can know this timeout in advance; it shows how much of
    a policy's distance to the optimum is the price of learning an endpoint's traffic rather than of the rule.
    Ties go to the shorter timeout.
    """
    times = [when for when, _ in trace.requests]
    candidates = sorted({0.0, *(later - earlier for earlier, later in zip(times, times[1:]))})
    best: tuple[float, float, EndpointResult] | None = None
    for timeout in candidates:
        cfg = PolicyConfig(
            name="fixed",
            wake_seconds=wake_seconds,
            hourly_price=hourly_price,
            idle_timeout_seconds=timeout,
            check_interval_seconds=TICK_SECONDS,
            cold_start_penalty_seconds=penalty_seconds,
        )
        result = simulate_endpoint(trace, cfg, keep_warm=keep_warm, min_ready_seconds=min_ready_seconds)
        cost = result.cost_seconds()
        if best is None or cost < best[0]:
            best = (cost, timeout, result)
    assert best is not None
    return best[1], best[2]
