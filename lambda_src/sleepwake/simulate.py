"""Replay invocation traces through the idle policies: `python -m sleepwake.simulate --trace FILE --policy all`.

The model, exact and deliberately simple:

- Time comes in bins (one minute in the Azure format; a timestamp,count CSV keeps its own bins). The requests
  of a bin all arrive at its start and take no time to serve.
- The endpoint starts asleep. A wake started at s makes it ready at s + W and is billed from s until it is
  deleted (or the trace ends). A request that finds it asleep starts a wake and waits until it is ready; one
  that finds it waking waits until it is ready. A request with a wait > 0 is a cold start and costs a penalty
  pro rata to its wait: `--cold-start-penalty-minutes` of the instance's price for a wait of a whole wake W
  (`policy.wait_cost`, the one cost model of the plan, the simulator and the optima). Total cost = billing +
  penalties.
- The policy (`sleepwake.policy.decide`, the manager's own code) is consulted at every tick, one minute apart
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

The ratio of a policy is its total cost over the offline optimum. Endpoints without any request have no
optimum (it is 0): they are counted, reported and left out of the ratios. For a file of many endpoints the
table shows the median, p90 and aggregate (sum of costs over sum of optima) ratio. Every policy on every
endpoint is independent, so `--jobs` workers (2 by default) split the endpoints between them.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from .core import IN_FLIGHT_GUARD_SECONDS
from .policy import ALL_PRESETS, PRESETS, SLEEP, WAKE, IdleHistory, PolicyConfig, decide, penalty_rate, wait_cost
from .pricing import UnknownInstanceType, hourly_price
from .settings import Settings
from .traces import EndpointTrace, TraceError, parse_timestamp, read_trace

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
        return (self.billed_seconds, self.requests, self.cold_starts, self.wakes, self.prewarms,
                tuple(sorted(self.waits.items())), self.penalty_seconds)


# ----------------------------------------------------------------------------------------------- the replay
def simulate_endpoint(trace: EndpointTrace, cfg: PolicyConfig, *, jump: bool = True, keep_warm: Any = None,
                      min_ready_seconds: float = 0.0, request_counts: bool = True) -> EndpointResult:
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
        history = history.observe(now, last_activity, wake_seconds=wake,
                                  requests=arrived if request_counts else None,
                                  penalty_seconds=cfg.penalty_seconds, grace_seconds=min_ready_seconds)
        decision = decide(cfg, history, now=now, awake=state != asleep, awake_since=wake_start,
                          keep_warm=keep_warm)
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
            deletable_at = max(ready_at + min_ready_seconds,
                               (last_activity if last_activity is not None else -math.inf) + IN_FLIGHT_GUARD_SECONDS)
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


def offline_optimum(trace: EndpointTrace, wake_seconds: float, penalty_seconds: float, *,
                    min_ready_seconds: float = 0.0, guard_seconds: float = 0.0,
                    tick_seconds: float | None = None) -> Optimum:
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


def hindsight_fixed(trace: EndpointTrace, wake_seconds: float, penalty_seconds: float, *,
                    hourly_price: float = 1.0, min_ready_seconds: float = 0.0, keep_warm: Any = None
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
        cfg = PolicyConfig(name="fixed", wake_seconds=wake_seconds, hourly_price=hourly_price,
                           idle_timeout_seconds=timeout, check_interval_seconds=TICK_SECONDS,
                           cold_start_penalty_seconds=penalty_seconds)
        result = simulate_endpoint(trace, cfg, keep_warm=keep_warm, min_ready_seconds=min_ready_seconds)
        cost = result.cost_seconds()
        if best is None or cost < best[0]:
            best = (cost, timeout, result)
    assert best is not None
    return best[1], best[2]


# ------------------------------------------------------------------------------------------------ the runs
@dataclass(frozen=True)
class RunOptions:
    policies: tuple[str, ...]
    wake_seconds: float
    hourly_price: float
    penalty_seconds: float
    overrides: tuple[tuple[str, Any], ...] = ()
    keep_warm: str | None = None
    min_ready_seconds: float = 0.0
    request_counts: bool = True
    hindsight: bool = False  # also find each endpoint's best fixed timeout in hindsight (a reference)

    def configs(self) -> list[PolicyConfig]:
        extra = dict(self.overrides)
        configs = []
        for name in self.policies:
            params = dict(extra) if name == "fixed" else {}  # timeout/interval overrides shape plain `fixed` only
            configs.append(PolicyConfig.named(name, wake_seconds=self.wake_seconds, hourly_price=self.hourly_price,
                                              cold_start_penalty_seconds=self.penalty_seconds, **params))
        return configs


def run_endpoints(traces: Sequence[EndpointTrace], options: RunOptions) -> list[dict[str, Any]]:
    """Per endpoint: the optimum costs and every policy's result (as plain tuples, cheap to pickle)."""
    configs = options.configs()
    keep_warm = None
    if options.keep_warm:
        from .schedule import KeepWarm

        keep_warm = KeepWarm.parse(options.keep_warm)
    rows = []
    for trace in traces:
        offline = offline_optimum(trace, options.wake_seconds, options.penalty_seconds,
                                  min_ready_seconds=options.min_ready_seconds, guard_seconds=IN_FLIGHT_GUARD_SECONDS,
                                  tick_seconds=TICK_SECONDS)
        rows.append({
            "name": trace.name,
            "requests": trace.total_requests,
            "offline": offline.cost_seconds,
            "offline_billed": offline.billed_seconds,
            "offline_cold": offline.cold_starts,
            "clairvoyant": clairvoyant_optimum(trace, options.wake_seconds, options.penalty_seconds),
            "results": [simulate_endpoint(trace, cfg, keep_warm=keep_warm,
                                          min_ready_seconds=options.min_ready_seconds,
                                          request_counts=options.request_counts).as_tuple()
                        for cfg in configs],
        })
        if options.hindsight:
            timeout, best = hindsight_fixed(trace, options.wake_seconds, options.penalty_seconds,
                                            hourly_price=options.hourly_price, keep_warm=keep_warm,
                                            min_ready_seconds=options.min_ready_seconds)
            rows[-1]["hindsight"] = best.as_tuple()
            rows[-1]["hindsight_timeout"] = timeout
    return rows


def run_parallel(traces: Sequence[EndpointTrace], options: RunOptions, jobs: int) -> list[dict[str, Any]]:
    if jobs <= 1 or len(traces) < 2 * jobs:
        return run_endpoints(traces, options)
    # interleave so both workers get a similar mix of busy and quiet endpoints
    chunks = [list(traces[j::jobs]) for j in range(jobs)]
    with multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(jobs) as pool:
        parts = pool.starmap(run_endpoints, [(chunk, options) for chunk in chunks])
    rows: list[dict[str, Any] | None] = [None] * len(traces)
    for j, part in enumerate(parts):
        for index, row in enumerate(part):
            rows[j + index * jobs] = row
    return rows  # type: ignore[return-value]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _wait_percentile(waits: dict[float, int], requests: int, q: float) -> float:
    """q-th percentile wait over all requests (those not listed waited 0), nearest rank."""
    if requests <= 0:
        return 0.0
    rank = max(1, math.ceil(requests * q / 100.0))
    seen = requests - sum(waits.values())  # zero waits
    if rank <= seen:
        return 0.0
    for wait in sorted(waits):
        seen += waits[wait]
        if rank <= seen:
            return wait
    return max(waits)


def summarise(rows: list[dict[str, Any]], options: RunOptions) -> dict[str, Any]:
    price = options.hourly_price
    penalty = options.penalty_seconds
    measured = [row for row in rows if row["offline"] > 0]
    summary: dict[str, Any] = {
        "endpoints": len(rows),
        "endpoints_without_requests": len(rows) - len(measured),
        "requests": sum(row["requests"] for row in rows),
        "wake_minutes": options.wake_seconds / 60.0,
        "cold_start_penalty_minutes": penalty / 60.0,
        "hourly_price": price,
        "policies": [],
    }
    offline_total = sum(row["offline"] for row in measured)
    baselines = [options.policies.index(name) for name in BASELINES if name in options.policies]
    cheapest = [min(_cost(row["results"][p]) for p in baselines) if baselines else math.nan for row in rows]
    for p, name in enumerate(options.policies):
        summary["policies"].append(_simulated_entry(name, [row["results"][p] for row in rows], rows, offline_total,
                                                    price, cheapest))
    references = (
        ("offline-optimum", "offline", sum(row["offline_billed"] for row in rows),
         sum(row["offline_cold"] for row in rows)),
        ("clairvoyant", "clairvoyant", sum(row["clairvoyant"] for row in rows), 0),
    )
    for name, key, billed, cold in references:
        total = sum(row[key] for row in measured)
        ratios = [row[key] / row["offline"] for row in measured]
        entry = _policy_entry(name, billed, sum(row[key] for row in rows) - billed, cold, summary["requests"], None,
                              None, None, ratios, total, offline_total, price)
        entry["reference"] = True
        regrets = [row[key] / cheap for row, cheap in zip(rows, cheapest) if row["offline"] > 0 and cheap > 0]
        if regrets:  # how far even a reference is from the cheapest simple policy: a floor for r
            entry["r"] = {"median": percentile(regrets, 50.0), "p90": percentile(regrets, 90.0),
                          "p99": percentile(regrets, 99.0), "max": max(regrets)}
        summary["policies"].append(entry)
    if options.hindsight:
        entry = _simulated_entry("best-fixed-hindsight", [row["hindsight"] for row in rows], rows, offline_total,
                                 price, cheapest)
        entry["reference"] = True
        entry["timeout_minutes"] = {"median": percentile([row["hindsight_timeout"] / 60.0 for row in measured], 50.0)}
        summary["policies"].append(entry)
    # the bounds, checked on every endpoint: no schedule below the clairvoyant optimum, none that wakes only on
    # requests below the offline optimum
    below = []
    for row in rows:
        for p, name in enumerate(options.policies):
            cost = _cost(row["results"][p])
            if cost < row["clairvoyant"] - 1e-6 or (row["results"][p][4] == 0 and cost < row["offline"] - 1e-6):
                below.append(f"{name} on {row['name']}")
    summary["below_a_bound"] = below
    return summary


# The simple policies a user could pick instead; r = a policy's cost / the cheapest of them on the same endpoint.
BASELINES = ("always-on", "breakeven", "fixed-15-15", "alarm-3x5+5")


def _cost(result: tuple) -> float:
    """Total cost of `EndpointResult.as_tuple()`: billing + penalties."""
    return result[0] + result[6]


def _simulated_entry(name: str, results: list[tuple], rows: list[dict[str, Any]], offline_total: float,
                     price: float, cheapest: list[float] | None = None) -> dict[str, Any]:
    """The table entry of one simulated schedule: `results[i]` is its `EndpointResult.as_tuple()` on `rows[i]`;
    `cheapest[i]` the cheapest baseline's cost there (for r)."""
    billed = penalties = 0.0
    requests = cold = wakes = prewarms = 0
    waits: dict[float, int] = {}
    ratios, regrets = [], []
    cost_total = 0.0
    for index, (result, row) in enumerate(zip(results, rows)):
        b, reqs, c, w, pw, wait_items, pen = result
        billed += b
        penalties += pen
        requests += reqs
        cold += c
        wakes += w
        prewarms += pw
        for wait, count in wait_items:
            waits[wait] = waits.get(wait, 0) + count
        if row["offline"] > 0:
            cost = b + pen
            cost_total += cost
            ratios.append(cost / row["offline"])
            if cheapest is not None and cheapest[index] > 0:
                regrets.append(cost / cheapest[index])
    entry = _policy_entry(name, billed, penalties, cold, requests, wakes, prewarms, waits, ratios, cost_total,
                          offline_total, price)
    if regrets:
        entry["r"] = {"median": percentile(regrets, 50.0), "p90": percentile(regrets, 90.0),
                      "p99": percentile(regrets, 99.0), "max": max(regrets)}
    return entry


def _ratio(result: tuple, row: dict[str, Any]) -> float | None:
    """One schedule's ratio on one endpoint (`result` as in `EndpointResult.as_tuple()`); None without an optimum."""
    return _cost(result) / row["offline"] if row["offline"] else None


def _policy_entry(name: str, billed: float, penalties: float, cold: int, requests: int, wakes: int | None,
                  prewarms: int | None, waits: dict[float, int] | None, ratios: list[float], cost_total: float,
                  offline_total: float, price: float) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "policy": name,
        "billed_hours": billed / 3600.0,
        "cost_usd": billed / 3600.0 * price,
        "cold_starts": cold,
        "penalty_usd": penalties / 3600.0 * price,
        "total_usd": (billed + penalties) / 3600.0 * price,
    }
    if wakes is not None:
        entry["wakes"] = wakes
        entry["prewarms"] = prewarms
    if waits is not None:
        entry["wait_total_minutes"] = sum(w * n for w, n in waits.items()) / 60.0
        entry["wait_p95_minutes"] = _wait_percentile(waits, requests, 95.0) / 60.0
    entry["ratio"] = {
        "median": percentile(ratios, 50.0),
        "p90": percentile(ratios, 90.0),
        "p99": percentile(ratios, 99.0),
        "max": max(ratios) if ratios else math.nan,
        "aggregate": cost_total / offline_total if offline_total > 0 else math.nan,
    }
    return entry


# ------------------------------------------------------------------------------------------------- the CLI
def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def render_table(summary: dict[str, Any], *, single: bool) -> str:
    headers = ["policy", "billed h", "cost $", "cold starts", "wait min", "p95 wait", "total $"]
    headers += ["ratio", "r"] if single else ["ratio med", "ratio p90", "ratio agg", "r med", "r p99", "r max"]
    lines = []
    body = []
    for entry in summary["policies"]:
        ratio = entry["ratio"]
        cells = [
            entry["policy"] + (" *" if entry.get("reference") else ""),
            _fmt(entry.get("billed_hours"), ".1f"),
            _fmt(entry.get("cost_usd"), ".2f"),
            _fmt(entry.get("cold_starts"), "d"),
            _fmt(entry.get("wait_total_minutes"), ".0f"),
            _fmt(entry.get("wait_p95_minutes"), ".1f"),
            _fmt(entry.get("total_usd"), ".2f"),
        ]
        r = entry.get("r") or {}
        cells += [_fmt(ratio["aggregate"], ".3f"), _fmt(r.get("max"), ".3f")] if single else [
            _fmt(ratio["median"], ".3f"), _fmt(ratio["p90"], ".3f"), _fmt(ratio["aggregate"], ".3f"),
            _fmt(r.get("median"), ".3f"), _fmt(r.get("p99"), ".3f"), _fmt(r.get("max"), ".3f")]
        body.append(cells)
    widths = [max(len(headers[c]), *(len(row[c]) for row in body)) for c in range(len(headers))]
    lines.append("  ".join(h.ljust(w) if c == 0 else h.rjust(w) for c, (h, w) in enumerate(zip(headers, widths))))
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append("  ".join(v.ljust(w) if c == 0 else v.rjust(w) for c, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sleepwake.simulate",
        description="Replay an invocation trace through the sleep/wake idle policies and compare their cost with"
                    " the offline optimum.",
    )
    parser.add_argument("--trace", required=True,
                        help="Azure Functions 2019 per-minute CSV, or timestamp,count CSV; or a directory: every"
                             f" {' or '.join('*' + suffix for suffix in BENCH_SUFFIXES)} file under it (the bench)")
    parser.add_argument("--policy", default="all",
                        help=f"one of {', '.join(PRESETS)}, a comma-separated list, or all ({', '.join(ALL_PRESETS)})")
    parser.add_argument("--wake-minutes", type=float, default=DEFAULT_WAKE_MINUTES,
                        help="W: minutes from the start of a wake until the endpoint serves (default 8)")
    parser.add_argument("--instance-type", default=DEFAULT_INSTANCE_TYPE,
                        help=f"prices the billing (default {DEFAULT_INSTANCE_TYPE})")
    parser.add_argument("--instance-count", type=int, default=1)
    parser.add_argument("--cold-start-penalty-minutes", type=float, default=None,
                        help="minutes of the instance's price one waiting request is worth (default: the wake minutes)")
    parser.add_argument("--idle-timeout-minutes", type=float, default=None, help="the plain `fixed` policy's timeout")
    parser.add_argument("--check-interval-minutes", type=float, default=None,
                        help="the plain `fixed` policy's check interval")
    parser.add_argument("--min-ready-minutes", type=float, default=Settings.min_in_service_seconds / 60.0,
                        help="grace: never delete an endpoint sooner than this after it became ready (the manager's"
                             " SLEEPWAKE_MIN_IN_SERVICE_SECONDS / 60; default: the manager's default, "
                             f"{Settings.min_in_service_seconds / 60.0:g})")
    parser.add_argument("--request-counts", action=argparse.BooleanOptionalAction, default=True,
                        help="tell the idle history how many requests came each minute, as the manager does (the"
                             " default); --no-request-counts tells it only that some did")
    parser.add_argument("--hindsight", action="store_true",
                        help="also show each endpoint's best fixed timeout chosen in hindsight (a reference no online"
                             " policy can reach: it knows the whole trace)")
    parser.add_argument("--keep-warm", default=None,
                        help='keep-warm schedule applied to every policy, e.g. "Mon-Fri 09:00-18:00 Europe/Paris"')
    parser.add_argument("--start", default="1970-01-01T00:00:00Z",
                        help="time of minute 1 of an Azure trace (ISO 8601 or epoch seconds); matters for --keep-warm")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default: 2, or 1 on a single core)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--per-endpoint", action="store_true", help="with --json: include every endpoint's ratios")
    return parser


MAX_OPTION_MINUTES = 525_600.0  # a year: any longer wake, timeout or penalty is a typo, and would overflow


def _positive(parser: argparse.ArgumentParser, name: str, value: float | None, *, allow_zero: bool = True) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        parser.error(f"{name} must be a number {'>=' if allow_zero else '>'} 0, got {value}")
    if value > MAX_OPTION_MINUTES:
        parser.error(f"{name} must be at most {MAX_OPTION_MINUTES:g} minutes (a year), got {value:g}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _positive(parser, "--wake-minutes", args.wake_minutes)
    _positive(parser, "--cold-start-penalty-minutes", args.cold_start_penalty_minutes)
    _positive(parser, "--idle-timeout-minutes", args.idle_timeout_minutes)
    _positive(parser, "--min-ready-minutes", args.min_ready_minutes)
    _positive(parser, "--check-interval-minutes", args.check_interval_minutes, allow_zero=False)
    if args.instance_count < 1:
        parser.error("--instance-count must be >= 1")
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.policy.strip() == "all":
        names = list(ALL_PRESETS)
    else:
        names = [p.strip() for p in args.policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in PRESETS]
    if unknown or not names:
        parser.error(f"unknown policy {', '.join(unknown) or repr(args.policy)}; valid: {', '.join(PRESETS)}, all")
    try:
        price = hourly_price(args.instance_type, args.instance_count)
    except (UnknownInstanceType, ValueError) as exc:
        parser.error(str(exc))
    if args.keep_warm:
        from .schedule import KeepWarm

        try:
            KeepWarm.parse(args.keep_warm)
        except ValueError as exc:
            parser.error(f"--keep-warm: {exc}")
    try:
        start = parse_timestamp(args.start, "--start", 0)
    except TraceError:
        parser.error(f"--start: cannot parse {args.start!r}")
    wake_seconds = args.wake_minutes * 60.0
    penalty_minutes = args.wake_minutes if args.cold_start_penalty_minutes is None else args.cold_start_penalty_minutes
    overrides = []
    if args.idle_timeout_minutes is not None:
        overrides.append(("idle_timeout_seconds", args.idle_timeout_minutes * 60.0))
    if args.check_interval_minutes is not None:
        overrides.append(("check_interval_seconds", args.check_interval_minutes * 60.0))
    options = RunOptions(policies=tuple(names), wake_seconds=wake_seconds, hourly_price=price,
                         penalty_seconds=penalty_minutes * 60.0, overrides=tuple(overrides), keep_warm=args.keep_warm,
                         min_ready_seconds=args.min_ready_minutes * 60.0, request_counts=args.request_counts,
                         hindsight=args.hindsight)

    started = time.perf_counter()
    if os.path.isdir(args.trace):
        return bench(args.trace, options, jobs=args.jobs, start=start, as_json=args.json)
    try:
        traces = read_trace(args.trace, start=start)
    except TraceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = run_parallel(traces, options, args.jobs)
    summary = summarise(rows, options)
    elapsed = time.perf_counter() - started
    summary.update({"trace": args.trace, "instance_type": args.instance_type, "instance_count": args.instance_count,
                    "min_ready_minutes": args.min_ready_minutes, "keep_warm": args.keep_warm,
                    "request_counts": args.request_counts,
                    "seconds": round(elapsed, 2), "jobs": args.jobs})
    if args.json:
        if args.per_endpoint:
            summary["per_endpoint"] = [
                {"name": row["name"], "requests": row["requests"],
                 "offline_optimum_usd": row["offline"] * price / 3600.0,
                 "ratios": {name: _ratio(r, row) for name, r in zip(names, row["results"])},
                 **({"best_fixed_timeout_minutes": row["hindsight_timeout"] / 60.0,
                     "best_fixed_ratio": _ratio(row["hindsight"], row)}
                    if options.hindsight else {})}
                for row in rows
            ]
        print(json.dumps(_nan_to_none(summary), indent=2, allow_nan=False))
        return 0
    single = len(rows) == 1
    print(f"trace {args.trace}: {len(rows)} endpoint{'s' if len(rows) != 1 else ''}, {summary['requests']:,} requests;"
          f" W = {args.wake_minutes:g} min, {args.instance_type} x{args.instance_count} at ${price:.4f}/h,"
          f" cold-start penalty = {penalty_minutes:g} min of price"
          + (f", no sleep within {args.min_ready_minutes:g} min of ready" if args.min_ready_minutes else "")
          + (f", keep-warm {args.keep_warm!r}" if args.keep_warm else "")
          + ("" if args.request_counts else ", request counts unknown to the policy"))
    if summary["endpoints_without_requests"]:
        print(f"{summary['endpoints_without_requests']} endpoint(s) without requests: no optimum, left out of the"
              " ratios")
    print(render_table(summary, single=single))
    print("ratio = total cost (billing + penalties) / offline optimum (knows the future, wakes only on requests)"
          + ("" if single else "; med/p90 across endpoints, agg = sum of costs / sum of optima"))
    print("* reference schedules; clairvoyant may also pre-warm, so no request waits")
    if options.hindsight:
        timeout = summary["policies"][-1]["timeout_minutes"]["median"]
        print(f"best-fixed-hindsight: each endpoint's best fixed timeout (checked every minute) chosen knowing its"
              f" whole trace; {'it is' if single else 'median'} {timeout:g} min")
    print(f"{elapsed:.1f} s with {args.jobs} worker{'s' if args.jobs != 1 else ''}")
    return 0


# ------------------------------------------------------------------------------------------------ the bench
BENCH_SUFFIXES = ("_per_minute.csv", "_azure_layout.csv")
REFERENCE_FILE = "azure_functions_2019"  # the day the policy was first tuned on: it must not regress


def bench_files(directory: str) -> list[str]:
    """Every trace file under `directory`, recursively, in a stable order (raw `source/` files are skipped by
    their names: only the simulator's two layouts, named *_per_minute.csv and *_azure_layout.csv, are read)."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found += [os.path.join(root, name) for name in sorted(files) if name.endswith(BENCH_SUFFIXES)]
    return found


def bench(directory: str, options: RunOptions, *, jobs: int, start: float = 0.0, as_json: bool = False) -> int:
    """`make bench`: one table per trace file, then r per policy over every endpoint of every file, then the
    issue's targets for the default policy, measured (never asserted)."""
    started = time.perf_counter()
    files = bench_files(directory)
    if not files:
        print(f"error: {directory}: no {' or '.join('*' + s for s in BENCH_SUFFIXES)} files", file=sys.stderr)
        return 2
    traces: list[EndpointTrace] = []
    owners: list[int] = []
    for index, path in enumerate(files):
        try:
            found = read_trace(path, start=start)
        except TraceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        traces += found
        owners += [index] * len(found)
    rows = run_parallel(traces, options, jobs)
    per_file = [[row for row, owner in zip(rows, owners) if owner == index] for index in range(len(files))]
    summaries = [summarise(file_rows, options) for file_rows in per_file]
    everything = summarise(rows, options)
    elapsed = time.perf_counter() - started
    if as_json:
        print(json.dumps(_nan_to_none({"files": dict(zip(files, summaries)), "all": everything,
                                       "seconds": round(elapsed, 2)}), indent=2, allow_nan=False))
        return 0
    for path, summary, file_rows in zip(files, summaries, per_file):
        print(f"\n{os.path.relpath(path, directory)}: {len(file_rows)} endpoint{'s' if len(file_rows) != 1 else ''},"
              f" {summary['requests']:,} requests")
        print(render_table(summary, single=False))
    print(f"\nall {len(files)} files, {len(rows)} endpoints: W = {options.wake_seconds / 60:g} min, penalty ="
          f" {options.penalty_seconds / 60:g} min of price for a whole wake's wait (pro rata)")
    print(render_table(everything, single=False))
    print("ratio = total cost / offline optimum (the simulator's rules, wakes only on requests); r = total cost /"
          " the cheapest of " + ", ".join(BASELINES) + " on the same endpoint")
    print(_targets(files, summaries, everything, directory))
    print(f"{elapsed:.1f} s with {jobs} worker{'s' if jobs != 1 else ''}")
    return 0


def _targets(files: list[str], summaries: list[dict[str, Any]], everything: dict[str, Any], directory: str) -> str:
    """Issue 11's targets for adaptive, with the figures that meet or miss them."""
    def entry(summary: dict[str, Any], name: str) -> dict[str, Any] | None:
        return next((e for e in summary["policies"] if e["policy"] == name), None)

    lines = ["targets for adaptive (measured here, not asserted):"]
    worst_p99 = worst_max = 0.0
    worst_file = ""
    for path, summary in zip(files, summaries):
        adaptive = entry(summary, "adaptive")
        if adaptive is None or "r" not in adaptive:
            continue
        if adaptive["r"]["max"] > worst_max:
            worst_max, worst_file = adaptive["r"]["max"], os.path.relpath(path, directory)
        worst_p99 = max(worst_p99, adaptive["r"]["p99"])
    met = "met" if worst_p99 <= 1.25 else "MISSED"
    lines.append(f"  r p99 <= 1.25 on every file: worst {worst_p99:.3f} ({met})")
    met = "met" if worst_max <= 2.0 else "MISSED"
    lines.append(f"  r max <= 2.0 on every file: worst {worst_max:.3f}, {worst_file} ({met})")
    adaptive = entry(everything, "adaptive")
    if adaptive is not None:
        others = {name: entry(everything, name)["ratio"]["aggregate"]
                  for name in ("fixed-15-15", "alarm-3x5+5", "breakeven") if entry(everything, name)}
        mine = adaptive["ratio"]["aggregate"]
        beaten = [f"{name} {value:.3f}" for name, value in others.items() if value <= mine]
        lines.append(f"  aggregate ratio to the optimum below every seed policy's and breakeven's: adaptive {mine:.3f}"
                     f" vs " + ", ".join(f"{n} {v:.3f}" for n, v in others.items())
                     + (" (met)" if not beaten else " (MISSED)"))
        per_file_misses = []
        for path, summary in zip(files, summaries):
            own = entry(summary, "adaptive")
            if own is None:
                continue
            better = [name for name in others if entry(summary, name)
                      and entry(summary, name)["ratio"]["aggregate"] < own["ratio"]["aggregate"] - 1e-9]
            if better:
                per_file_misses.append(f"{os.path.relpath(path, directory)} ({', '.join(better)})")
        lines.append("  per file, policies with a lower aggregate ratio than adaptive: "
                     + ("; ".join(per_file_misses) if per_file_misses else "none"))
    for path, summary in zip(files, summaries):
        if REFERENCE_FILE in os.path.basename(path) and entry(summary, "adaptive"):
            ratio = entry(summary, "adaptive")["ratio"]
            ok = ratio["median"] <= 1.125 and ratio["p90"] <= 1.45
            lines.append(f"  {os.path.basename(path)}: median {ratio['median']:.3f} <= 1.125, p90 {ratio['p90']:.3f}"
                         f" <= 1.45 ({'met' if ok else 'MISSED'})")
    below = everything["below_a_bound"]
    lines.append("  no policy below the clairvoyant optimum, none that never pre-warms below the offline optimum: "
                 + ("met on every endpoint" if not below else f"MISSED: {', '.join(below[:5])}"))
    return "\n".join(lines)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
