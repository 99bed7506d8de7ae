"""The savings report: one endpoint's day, as it was and as every idle policy would have had it.

Pure: a function of the endpoint's record (its usage logs, sleepwake.domain.usage), its price and the manager's
settings. The day's recorded per-minute requests become an `EndpointTrace` and are replayed through
`sleepwake.domain.simulation.simulate_endpoint` for every preset, under the manager's own rules (W = the
endpoint's wake estimate, the grace period, the cold-start penalty), so the figures are the simulator's own.

The window is the day (UTC) cut to when the manager started tracking the endpoint and to now (today so far).
"""

from __future__ import annotations

import calendar
import math
import re
import time
from typing import Any

from sleepwake.domain import usage
from sleepwake.domain.policy import ALL_PRESETS, PolicyConfig
from sleepwake.domain.simulation import EndpointTrace, simulate_endpoint

DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def day_bounds(day: str) -> tuple[float, float]:
    """[start, end) of a UTC day `YYYY-MM-DD`; ValueError when it is not one."""
    if not DAY_RE.match(day):
        raise ValueError(f"day must be a UTC date YYYY-MM-DD, got {day[:40]!r}")
    try:
        start = float(calendar.timegm(time.strptime(day, "%Y-%m-%d")))
    except (ValueError, OverflowError):
        raise ValueError(f"day {day!r} is not a calendar date") from None
    return start, start + usage.DAY


def percentile(waits: list[tuple[float, float]], q: float) -> float | None:
    """The q-quantile (nearest rank) of waits given as (wait seconds, requests)."""
    total = sum(n for _, n in waits)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0.0
    for wait, n in sorted(waits):
        seen += n
        if seen >= rank:
            return wait
    return sorted(waits)[-1][0]


def window(record: Any, day: str, now: float) -> tuple[float, float]:
    start, end = day_bounds(day)
    if record.tracked_since is not None:
        start = max(start, record.tracked_since)
    return start, min(end, now)


def trace_of(record: Any, start: float, end: float) -> EndpointTrace:
    requests = tuple((t, int(n)) for t, n in usage.parse(record.activity_log) if start <= t < end)
    return EndpointTrace(record.endpoint_name, start, end, 60.0, requests)


def day_report(
    record: Any,
    day: str,
    now: float,
    *,
    instance_type: str | None,
    hourly_price: float | None,
    wake_seconds: float,
    idle_timeout_seconds: float,
    penalty_seconds: float | None,
    min_ready_seconds: float,
    policy: str,
) -> dict[str, Any]:
    """The report of `day` for one endpoint (see the module docstring). Prices in USD when the price is known."""
    start, end = window(record, day, now)
    if end <= start:
        return {"endpoint_name": record.endpoint_name, "day": day, "hours": 0.0, "message": "not tracked that day"}
    trace = trace_of(record, start, end)
    price = hourly_price

    def usd(seconds: float) -> float | None:
        return round(seconds / 3600.0 * price, 4) if price is not None else None

    # ---- as it was: billed periods, wakes and the requests that waited for them
    periods = list(usage.parse(record.periods_log))
    if record.wake_started_at is not None:
        periods.append((record.wake_started_at, now))  # the running period
    awake = sum(max(0.0, min(e, end) - max(s, start)) for s, e in periods)
    measured = usage.parse(record.wakes_log)
    wakes = [(s, took) for s, took in measured if start <= s < end]
    # A wake still under way: counted, its requests wait until the expected end (the wake estimate).
    ongoing = (
        record.wake_started_at is not None
        and record.in_service_since is None
        and record.deleting_since is None
        and start <= record.wake_started_at < end
    )
    timed = measured + ([(record.wake_started_at, wake_seconds)] if ongoing else [])
    waits: list[tuple[float, float]] = []
    for minute, count in trace.requests:
        for s, took in timed:
            # Requests are kept by minute: those of the minute the wake started in waited for all of it.
            if s - s % 60 <= minute < s + took:
                waits.append((s + took - max(minute, s), count))
                break
    waited = sum(n for _, n in waits)
    # ---- every policy on the same traffic
    policies: dict[str, dict[str, Any]] = {}
    for name in ALL_PRESETS:
        cfg = PolicyConfig.named(
            name,
            wake_seconds=wake_seconds,
            hourly_price=price or 1.0,
            idle_timeout_seconds=idle_timeout_seconds,
            cold_start_penalty_seconds=penalty_seconds,
        )
        result = simulate_endpoint(trace, cfg, min_ready_seconds=min_ready_seconds)
        policies[name] = {
            "awake_hours": round(result.billed_seconds / 3600.0, 4),
            "cost_usd": usd(result.billed_seconds),
            "wakes": result.wakes,
            "requests_waited": result.cold_starts,
            "wait_minutes": round(sum(w * n for w, n in result.waits.items()) / 60.0, 2),
            "total_usd": usd(result.cost_seconds()),
            "_total_seconds": result.cost_seconds(),
            "_billed_seconds": result.billed_seconds,
        }
    cheapest = min(policies, key=lambda n: (policies[n]["_total_seconds"], ALL_PRESETS.index(n)))
    for figures in policies.values():
        figures.pop("_total_seconds")
        figures.pop("_billed_seconds")
    hours = (end - start) / 3600.0
    return {
        "endpoint_name": record.endpoint_name,
        "day": day,
        "from": start,
        "to": end,
        "hours": round(hours, 4),
        "instance_type": instance_type,
        "hourly_price_usd": price,
        "policy": policy,
        "requests": trace.total_requests,
        "awake_hours": round(awake / 3600.0, 4),
        "cost_usd": usd(awake),
        "always_on_usd": usd(end - start),
        "saved_usd": usd((end - start) - awake),
        "wakes": len(wakes) + ongoing,
        "wake_seconds": [round(took, 1) for _, took in wakes],  # measured ones (a wake under way is not yet)
        "requests_waited": int(waited),
        "wait_p50_seconds": percentile(waits, 0.5),
        "wait_p95_seconds": percentile(waits, 0.95),
        "wake_estimate_seconds": round(wake_seconds, 1),
        "policies": policies,
        "cheapest_policy": cheapest,
    }


def render(report: dict[str, Any]) -> str:
    """A few lines for people: the notification's text and `make demo`."""
    if "policies" not in report:
        return f"{report['endpoint_name']} {report['day']}: {report.get('message', 'no data')}"

    def money(value: float | None) -> str:
        return "n/a" if value is None else f"${value:.2f}"

    p50, p95 = report["wait_p50_seconds"], report["wait_p95_seconds"]
    under_way = ["1 under way"] if report["wakes"] > len(report["wake_seconds"]) else []
    lines = [
        f"{report['endpoint_name']} on {report['day']} ({report['hours']:g} h tracked, {report['instance_type']}, "
        f"policy {report['policy']}): awake {report['awake_hours']:.2f} h = {money(report['cost_usd'])}, "
        f"always-on {money(report['always_on_usd'])}, saved {money(report['saved_usd'])}",
        f"  {report['requests']} requests; {report['wakes']} wakes "
        f"({', '.join([f'{s:g} s' for s in report['wake_seconds']] + under_way) or 'none'}); "
        f"{report['requests_waited']} requests waited"
        + (f" (p50 {p50:g} s, p95 {p95:g} s)" if p50 is not None else ""),
        f"  {'policy':<12} {'awake h':>8} {'cost':>9} {'wakes':>5} {'waited':>6} {'wait min':>8} {'total':>9}",
    ]
    for name, f in report["policies"].items():
        mark = "  <- cheapest" if name == report["cheapest_policy"] else ""
        lines.append(
            f"  {name:<12} {f['awake_hours']:>8.2f} {money(f['cost_usd']):>9} {f['wakes']:>5} "
            f"{f['requests_waited']:>6} {f['wait_minutes']:>8.1f} {money(f['total_usd']):>9}{mark}"
        )
    lines.append("  total = cost + the waits priced as the policies price them (a whole wake's wait = W of the price)")
    return "\n".join(lines)
