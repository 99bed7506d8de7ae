"""Replay invocation traces through the idle policies: `python -m sleepwake_sim.simulate --trace FILE --policy all`.

The model and the reference costs (offline and clairvoyant optima, best fixed timeout in hindsight) are the
engine's, `sleepwake.domain.simulation`, which is part of the Lambda package so that deployed code can use it.
This module reads traces, runs every policy on every endpoint, and prints the tables.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sleepwake.domain.lifecycle import IN_FLIGHT_GUARD_SECONDS
from sleepwake.domain.policy import ALL_PRESETS, PRESETS, PolicyConfig
from sleepwake.domain.pricing import UnknownInstanceType, hourly_price
from sleepwake.domain.settings import Settings
from sleepwake.domain.simulation import (
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_WAKE_MINUTES,
    TICK_SECONDS,
    EndpointTrace,
    clairvoyant_optimum,
    hindsight_fixed,
    offline_optimum,
    simulate_endpoint,
)
from sleepwake_sim.traces import TraceError, parse_timestamp, read_trace


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
            configs.append(
                PolicyConfig.named(
                    name,
                    wake_seconds=self.wake_seconds,
                    hourly_price=self.hourly_price,
                    cold_start_penalty_seconds=self.penalty_seconds,
                    **params,
                )
            )
        return configs


def run_endpoints(traces: Sequence[EndpointTrace], options: RunOptions) -> list[dict[str, Any]]:
    """Per endpoint: the optimum costs and every policy's result (as plain tuples, cheap to pickle)."""
    configs = options.configs()
    keep_warm = None
    if options.keep_warm:
        from sleepwake.domain.schedule import KeepWarm

        keep_warm = KeepWarm.parse(options.keep_warm)
    rows = []
    for trace in traces:
        offline = offline_optimum(
            trace,
            options.wake_seconds,
            options.penalty_seconds,
            min_ready_seconds=options.min_ready_seconds,
            guard_seconds=IN_FLIGHT_GUARD_SECONDS,
            tick_seconds=TICK_SECONDS,
        )
        rows.append(
            {
                "name": trace.name,
                "requests": trace.total_requests,
                "offline": offline.cost_seconds,
                "offline_billed": offline.billed_seconds,
                "offline_cold": offline.cold_starts,
                "clairvoyant": clairvoyant_optimum(trace, options.wake_seconds, options.penalty_seconds),
                "results": [
                    simulate_endpoint(
                        trace,
                        cfg,
                        keep_warm=keep_warm,
                        min_ready_seconds=options.min_ready_seconds,
                        request_counts=options.request_counts,
                    ).as_tuple()
                    for cfg in configs
                ],
            }
        )
        if options.hindsight:
            timeout, best = hindsight_fixed(
                trace,
                options.wake_seconds,
                options.penalty_seconds,
                hourly_price=options.hourly_price,
                keep_warm=keep_warm,
                min_ready_seconds=options.min_ready_seconds,
            )
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
        summary["policies"].append(
            _simulated_entry(name, [row["results"][p] for row in rows], rows, offline_total, price, cheapest)
        )
    references = (
        (
            "offline-optimum",
            "offline",
            sum(row["offline_billed"] for row in rows),
            sum(row["offline_cold"] for row in rows),
        ),
        ("clairvoyant", "clairvoyant", sum(row["clairvoyant"] for row in rows), 0),
    )
    for name, key, billed, cold in references:
        total = sum(row[key] for row in measured)
        ratios = [row[key] / row["offline"] for row in measured]
        entry = _policy_entry(
            name,
            billed,
            sum(row[key] for row in rows) - billed,
            cold,
            summary["requests"],
            None,
            None,
            None,
            ratios,
            total,
            offline_total,
            price,
        )
        entry["reference"] = True
        regrets = [row[key] / cheap for row, cheap in zip(rows, cheapest) if row["offline"] > 0 and cheap > 0]
        if regrets:  # how far even a reference is from the cheapest simple policy: a floor for r
            entry["r"] = {
                "median": percentile(regrets, 50.0),
                "p90": percentile(regrets, 90.0),
                "p99": percentile(regrets, 99.0),
                "max": max(regrets),
            }
        summary["policies"].append(entry)
    if options.hindsight:
        entry = _simulated_entry(
            "best-fixed-hindsight", [row["hindsight"] for row in rows], rows, offline_total, price, cheapest
        )
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


def _simulated_entry(
    name: str,
    results: list[tuple],
    rows: list[dict[str, Any]],
    offline_total: float,
    price: float,
    cheapest: list[float] | None = None,
) -> dict[str, Any]:
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
    entry = _policy_entry(
        name, billed, penalties, cold, requests, wakes, prewarms, waits, ratios, cost_total, offline_total, price
    )
    if regrets:
        entry["r"] = {
            "median": percentile(regrets, 50.0),
            "p90": percentile(regrets, 90.0),
            "p99": percentile(regrets, 99.0),
            "max": max(regrets),
        }
    return entry


def _ratio(result: tuple, row: dict[str, Any]) -> float | None:
    """One schedule's ratio on one endpoint (`result` as in `EndpointResult.as_tuple()`); None without an optimum."""
    return _cost(result) / row["offline"] if row["offline"] else None


def _policy_entry(
    name: str,
    billed: float,
    penalties: float,
    cold: int,
    requests: int,
    wakes: int | None,
    prewarms: int | None,
    waits: dict[float, int] | None,
    ratios: list[float],
    cost_total: float,
    offline_total: float,
    price: float,
) -> dict[str, Any]:
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
        cells += (
            [_fmt(ratio["aggregate"], ".3f"), _fmt(r.get("max"), ".3f")]
            if single
            else [
                _fmt(ratio["median"], ".3f"),
                _fmt(ratio["p90"], ".3f"),
                _fmt(ratio["aggregate"], ".3f"),
                _fmt(r.get("median"), ".3f"),
                _fmt(r.get("p99"), ".3f"),
                _fmt(r.get("max"), ".3f"),
            ]
        )
        body.append(cells)
    widths = [max(len(headers[c]), *(len(row[c]) for row in body)) for c in range(len(headers))]
    lines.append("  ".join(h.ljust(w) if c == 0 else h.rjust(w) for c, (h, w) in enumerate(zip(headers, widths))))
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append("  ".join(v.ljust(w) if c == 0 else v.rjust(w) for c, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sleepwake_sim.simulate",
        description="Replay an invocation trace through the sleep/wake idle policies and compare their cost with"
        " the offline optimum.",
    )
    parser.add_argument(
        "--trace",
        required=True,
        help="Azure Functions 2019 per-minute CSV, or timestamp,count CSV; or a directory: every"
        f" {' or '.join('*' + suffix for suffix in BENCH_SUFFIXES)} file under it (the bench)",
    )
    parser.add_argument(
        "--policy",
        default="all",
        help=f"one of {', '.join(PRESETS)}, a comma-separated list, or all ({', '.join(ALL_PRESETS)})",
    )
    parser.add_argument(
        "--wake-minutes",
        type=float,
        default=DEFAULT_WAKE_MINUTES,
        help="W: minutes from the start of a wake until the endpoint serves (default 8)",
    )
    parser.add_argument(
        "--instance-type", default=DEFAULT_INSTANCE_TYPE, help=f"prices the billing (default {DEFAULT_INSTANCE_TYPE})"
    )
    parser.add_argument("--instance-count", type=int, default=1)
    parser.add_argument(
        "--cold-start-penalty-minutes",
        type=float,
        default=None,
        help="minutes of the instance's price one waiting request is worth (default: the wake minutes)",
    )
    parser.add_argument("--idle-timeout-minutes", type=float, default=None, help="the plain `fixed` policy's timeout")
    parser.add_argument(
        "--check-interval-minutes", type=float, default=None, help="the plain `fixed` policy's check interval"
    )
    parser.add_argument(
        "--min-ready-minutes",
        type=float,
        default=Settings.min_in_service_seconds / 60.0,
        help="grace: never delete an endpoint sooner than this after it became ready (the manager's"
        " SLEEPWAKE_MIN_IN_SERVICE_SECONDS / 60; default: the manager's default, "
        f"{Settings.min_in_service_seconds / 60.0:g})",
    )
    parser.add_argument(
        "--request-counts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="tell the idle history how many requests came each minute, as the manager does (the"
        " default); --no-request-counts tells it only that some did",
    )
    parser.add_argument(
        "--hindsight",
        action="store_true",
        help="also show each endpoint's best fixed timeout chosen in hindsight (a reference no online"
        " policy can reach: it knows the whole trace)",
    )
    parser.add_argument(
        "--keep-warm",
        default=None,
        help='keep-warm schedule applied to every policy, e.g. "Mon-Fri 09:00-18:00 Europe/Paris"',
    )
    parser.add_argument(
        "--start",
        default="1970-01-01T00:00:00Z",
        help="time of minute 1 of an Azure trace (ISO 8601 or epoch seconds); matters for --keep-warm",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes (default: 2, or 1 on a single core)",
    )
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
        from sleepwake.domain.schedule import KeepWarm

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
    options = RunOptions(
        policies=tuple(names),
        wake_seconds=wake_seconds,
        hourly_price=price,
        penalty_seconds=penalty_minutes * 60.0,
        overrides=tuple(overrides),
        keep_warm=args.keep_warm,
        min_ready_seconds=args.min_ready_minutes * 60.0,
        request_counts=args.request_counts,
        hindsight=args.hindsight,
    )

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
    summary.update(
        {
            "trace": args.trace,
            "instance_type": args.instance_type,
            "instance_count": args.instance_count,
            "min_ready_minutes": args.min_ready_minutes,
            "keep_warm": args.keep_warm,
            "request_counts": args.request_counts,
            "seconds": round(elapsed, 2),
            "jobs": args.jobs,
        }
    )
    if args.json:
        if args.per_endpoint:
            summary["per_endpoint"] = [
                {
                    "name": row["name"],
                    "requests": row["requests"],
                    "offline_optimum_usd": row["offline"] * price / 3600.0,
                    "ratios": {name: _ratio(r, row) for name, r in zip(names, row["results"])},
                    **(
                        {
                            "best_fixed_timeout_minutes": row["hindsight_timeout"] / 60.0,
                            "best_fixed_ratio": _ratio(row["hindsight"], row),
                        }
                        if options.hindsight
                        else {}
                    ),
                }
                for row in rows
            ]
        print(json.dumps(_nan_to_none(summary), indent=2, allow_nan=False))
        return 0
    single = len(rows) == 1
    print(
        f"trace {args.trace}: {len(rows)} endpoint{'s' if len(rows) != 1 else ''}, {summary['requests']:,} requests;"
        f" W = {args.wake_minutes:g} min, {args.instance_type} x{args.instance_count} at ${price:.4f}/h,"
        f" cold-start penalty = {penalty_minutes:g} min of price"
        + (f", no sleep within {args.min_ready_minutes:g} min of ready" if args.min_ready_minutes else "")
        + (f", keep-warm {args.keep_warm!r}" if args.keep_warm else "")
        + ("" if args.request_counts else ", request counts unknown to the policy")
    )
    if summary["endpoints_without_requests"]:
        print(
            f"{summary['endpoints_without_requests']} endpoint(s) without requests: no optimum, left out of the ratios"
        )
    print(render_table(summary, single=single))
    print(
        "ratio = total cost (billing + penalties) / offline optimum (knows the future, wakes only on requests)"
        + ("" if single else "; med/p90 across endpoints, agg = sum of costs / sum of optima")
    )
    print("* reference schedules; clairvoyant may also pre-warm, so no request waits")
    if options.hindsight:
        timeout = summary["policies"][-1]["timeout_minutes"]["median"]
        print(
            f"best-fixed-hindsight: each endpoint's best fixed timeout (checked every minute) chosen knowing its"
            f" whole trace; {'it is' if single else 'median'} {timeout:g} min"
        )
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
        print(
            json.dumps(
                _nan_to_none({"files": dict(zip(files, summaries)), "all": everything, "seconds": round(elapsed, 2)}),
                indent=2,
                allow_nan=False,
            )
        )
        return 0
    for path, summary, file_rows in zip(files, summaries, per_file):
        print(
            f"\n{os.path.relpath(path, directory)}: {len(file_rows)} endpoint{'s' if len(file_rows) != 1 else ''},"
            f" {summary['requests']:,} requests"
        )
        print(render_table(summary, single=False))
    print(
        f"\nall {len(files)} files, {len(rows)} endpoints: W = {options.wake_seconds / 60:g} min, penalty ="
        f" {options.penalty_seconds / 60:g} min of price for a whole wake's wait (pro rata)"
    )
    print(render_table(everything, single=False))
    print(
        "ratio = total cost / offline optimum (the simulator's rules, wakes only on requests); r = total cost /"
        " the cheapest of " + ", ".join(BASELINES) + " on the same endpoint"
    )
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
        others = {
            name: entry(everything, name)["ratio"]["aggregate"]
            for name in ("fixed-15-15", "alarm-3x5+5", "breakeven")
            if entry(everything, name)
        }
        mine = adaptive["ratio"]["aggregate"]
        beaten = [f"{name} {value:.3f}" for name, value in others.items() if value <= mine]
        lines.append(
            f"  aggregate ratio to the optimum below every seed policy's and breakeven's: adaptive {mine:.3f}"
            f" vs " + ", ".join(f"{n} {v:.3f}" for n, v in others.items()) + (" (met)" if not beaten else " (MISSED)")
        )
        per_file_misses = []
        for path, summary in zip(files, summaries):
            own = entry(summary, "adaptive")
            if own is None:
                continue
            better = [
                name
                for name in others
                if entry(summary, name)
                and entry(summary, name)["ratio"]["aggregate"] < own["ratio"]["aggregate"] - 1e-9
            ]
            if better:
                per_file_misses.append(f"{os.path.relpath(path, directory)} ({', '.join(better)})")
        lines.append(
            "  per file, policies with a lower aggregate ratio than adaptive: "
            + ("; ".join(per_file_misses) if per_file_misses else "none")
        )
    for path, summary in zip(files, summaries):
        if REFERENCE_FILE in os.path.basename(path) and entry(summary, "adaptive"):
            ratio = entry(summary, "adaptive")["ratio"]
            ok = ratio["median"] <= 1.125 and ratio["p90"] <= 1.45
            lines.append(
                f"  {os.path.basename(path)}: median {ratio['median']:.3f} <= 1.125, p90 {ratio['p90']:.3f}"
                f" <= 1.45 ({'met' if ok else 'MISSED'})"
            )
    below = everything["below_a_bound"]
    lines.append(
        "  no policy below the clairvoyant optimum, none that never pre-warms below the offline optimum: "
        + ("met on every endpoint" if not below else f"MISSED: {', '.join(below[:5])}")
    )
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
