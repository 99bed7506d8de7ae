"""The simulator: exact optima on hand-made traces, hand-computed policy timelines, jump == tick, and the CLI."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

import pytest

from sleepwake.domain.policy import ALL_PRESETS, PolicyConfig
from sleepwake.domain.schedule import KeepWarm
from sleepwake.domain.simulation import (
    EndpointTrace,
    clairvoyant_optimum,
    hindsight_fixed,
    offline_optimum,
    simulate_endpoint,
)
from sleepwake_sim.simulate import RunOptions, main, percentile, run_endpoints, summarise

DATA = Path(__file__).parent / "data" / "traces"
W = 480.0
MIN = 60.0


def trace(*requests: tuple[float, int], end_minutes: float = 120, start: float = 0.0) -> EndpointTrace:
    return EndpointTrace(
        name="t",
        start=start,
        end=start + end_minutes * MIN,
        bin_seconds=MIN,
        requests=tuple((start + minute * MIN, count) for minute, count in requests),
    )


def cfg(name: str, **kw) -> PolicyConfig:
    kw.setdefault("wake_seconds", W)
    kw.setdefault("hourly_price", 1.0)
    return PolicyConfig.named(name, **kw)


def exact_adaptive(**kw) -> PolicyConfig:
    return cfg("adaptive", adaptive_prior_weight=0.0, adaptive_smoothing=0.0, **kw)


def opt_minutes(t: EndpointTrace, penalty: float = W) -> float:
    return offline_optimum(t, W, penalty).cost_seconds / MIN


# ------------------------------------------------------------------------------------- offline optimum
def test_optimum_of_one_request_is_one_wake_and_one_wait():
    result = offline_optimum(trace((0, 1)), W, W)
    assert (result.cost_seconds, result.billed_seconds, result.cold_starts) == (16 * MIN, 8 * MIN, 1)


def test_optimum_keeps_a_short_gap_and_sleeps_through_a_long_one():
    assert opt_minutes(trace((0, 1), (10, 1))) == 18  # wake 0-8, stay to 10: 10 billed + 1 wait
    assert opt_minutes(trace((0, 1), (30, 1))) == 32  # two wakes, two waits: 16 + 16 < 38
    assert opt_minutes(trace((0, 1), (24, 1))) == 32  # break-even: staying 16 after ready = another wake


def test_optimum_counts_every_request_that_arrives_during_a_wake():
    # 0 (1) waits 8 and 3 (2) wait 5 each, pro rata; then staying 8 -> 20 (12) beats sleeping at 8 and waking at
    # 20 (8 + 8 = 16)
    result = offline_optimum(trace((0, 1), (3, 2), (20, 1)), W, W)
    assert result.cost_seconds == (20 + 8 + 2 * 5) * MIN and result.cold_starts == 3
    assert result.billed_seconds == 20 * MIN


def test_optimum_when_gaps_interact():
    # Per gap on its own: sleep through 8 -> 30 (16 < 22), keep 30 -> 33 (3): 16 + 16 + 3 = 35, which is not
    # reachable: after the wake at 30 the request at 33 waits too, 5 minutes. Exact: sleep, then both wait:
    # 16 billed + 8 + 8 + 5 = 37, under staying awake 0 -> 33 with one wait (41).
    result = offline_optimum(trace((0, 1), (30, 1), (33, 1)), W, W)
    assert result.cost_seconds == 37 * MIN
    assert (result.billed_seconds, result.cold_starts) == (16 * MIN, 3)
    assert opt_minutes(trace((0, 1), (30, 1), (33, 3))) == 41  # with three requests at 33 (47), staying wins


def test_optimum_billing_stops_at_the_end_of_the_trace():
    assert opt_minutes(trace((117, 1), end_minutes=120)) == 3 + 8
    assert offline_optimum(trace(), W, W).cost_seconds == 0


def _brute_force(
    t: EndpointTrace, wake: float, penalty: float, grace: float = 0.0, guard: float = 0.0, tick: float | None = None
) -> float:
    """Every feasible choice of "sleep as soon as allowed after request j" (never while waking, within the grace
    after ready or the guard after a request; at a tick), costed independently; waits pro rata."""
    reqs = t.requests
    n = len(reqs)
    rate = penalty / wake
    best = math.inf
    for choice in itertools.product((False, True), repeat=n):
        billed = waits = 0.0
        awake_from = None
        ready = -math.inf
        feasible = True
        for j, (when, count) in enumerate(reqs):
            if awake_from is None:
                awake_from, ready = when, when + wake
            if when < ready:
                waits += count * (ready - when)
            if choice[j]:
                delete = max(when + guard, ready + grace)
                if tick is not None:
                    delete = t.start + math.ceil((delete - t.start) / tick - 1e-9) * tick
                if j < n - 1 and reqs[j + 1][0] <= delete:
                    feasible = False
                    break
                billed += min(delete, t.end) - awake_from
                awake_from = None
        if not feasible:
            continue
        if awake_from is not None:
            billed += t.end - awake_from
        best = min(best, billed + waits * rate)
    return best


@pytest.mark.parametrize("grace, guard, tick", [(0.0, 0.0, None), (120.0, 60.0, MIN), (300.0, 60.0, MIN)])
def test_optimum_equals_brute_force_on_random_small_traces(grace, guard, tick):
    rng = random.Random(3)
    for _ in range(150):
        minutes = sorted(rng.sample(range(0, 90), rng.randint(1, 9)))
        t = trace(*[(minute, rng.choice([1, 1, 1, 2, 5])) for minute in minutes], end_minutes=95)
        wake, penalty = rng.choice([(W, W), (W, 120.0), (300.0, 600.0)])
        optimum = offline_optimum(t, wake, penalty, min_ready_seconds=grace, guard_seconds=guard, tick_seconds=tick)
        assert optimum.cost_seconds == pytest.approx(_brute_force(t, wake, penalty, grace, guard, tick)), t


def test_clairvoyant_pays_one_wake_plus_the_cheaper_of_gap_or_wake():
    assert clairvoyant_optimum(trace((0, 1), (10, 1), (100, 1)), W) == (8 + 8 + 8) * MIN
    assert clairvoyant_optimum(trace((0, 1), (3, 4)), W) == (8 + 3) * MIN
    assert clairvoyant_optimum(trace(), W) == 0


def test_hindsight_fixed_picks_the_timeout_that_catches_the_short_gap_only():
    t = trace((0, 1), (10, 1), (100, 1))
    # candidates 0, 10 and 90 minutes (checked every minute, no grace):
    #   0: three wakes of 8 billed, three waits          24 + 24 = 48
    #  10: 0-20 and 100-110 billed, two waits             30 + 16 = 46
    #  90: 0 to the end at 120 billed, one wait          120 +  8 = 128
    timeout, result = hindsight_fixed(t, W, W)
    assert timeout == 10 * MIN
    assert (result.billed_seconds, result.cold_starts, result.wakes) == (30 * MIN, 2, 2)
    assert opt_minutes(t) == 34  # awake 0-10 (two minutes past ready), then one more wake at 100


def test_hindsight_fixed_is_never_beaten_by_any_whole_minute_timeout():
    # the candidates are 0 and the gaps: a timeout in between only bills more, so no other timeout wins
    rng = random.Random(11)
    for _ in range(60):
        minutes = sorted(rng.sample(range(0, 150), rng.randint(1, 12)))
        t = trace(*[(minute, rng.choice([1, 1, 3])) for minute in minutes], end_minutes=160)
        grace = rng.choice([0.0, 120.0])
        timeout, best = hindsight_fixed(t, W, W, min_ready_seconds=grace)
        for minutes_idle in range(0, 61):
            other = simulate_endpoint(
                t,
                cfg("fixed", idle_timeout_seconds=minutes_idle * MIN, check_interval_seconds=MIN),
                min_ready_seconds=grace,
            )
            assert best.cost_seconds() <= other.cost_seconds(), (t, timeout, minutes_idle)


def test_summary_with_the_hindsight_reference():
    options = RunOptions(policies=("breakeven",), wake_seconds=W, hourly_price=1.0, penalty_seconds=W, hindsight=True)
    traces = [trace((0, 1), (10, 1), (100, 1)), trace()]
    entry = summarise(run_endpoints(traces, options), options)["policies"][-1]
    assert entry["policy"] == "best-fixed-hindsight" and entry["reference"]
    # the optimum under the simulator's rules: awake 0-11 (the in-flight guard), then one more wake at 100: 35
    assert entry["ratio"]["aggregate"] == pytest.approx(46 / 35)
    assert entry["timeout_minutes"]["median"] == 10
    assert (entry["cold_starts"], entry["wakes"]) == (2, 2)


# ------------------------------------------------------------------------------------ policy timelines
def test_fixed_15_15_timeline():
    r = simulate_endpoint(trace((0, 1), (40, 1)), cfg("fixed-15-15"))
    # wake 0 (ready 8), sleeps at the 15-minute check; wake 40, sleeps at the 60-minute check
    assert r.billed_seconds == (15 + 20) * MIN
    assert (r.cold_starts, r.wakes, r.prewarms, r.requests) == (2, 2, 0, 2)
    assert r.waits == {W: 2}


def test_alarm_timeline():
    r = simulate_endpoint(trace((3, 1), (40, 1)), cfg("alarm-3x5+5"))
    assert r.billed_seconds == ((25 - 3) + (60 - 40)) * MIN


def test_breakeven_timeline_and_penalty_option():
    assert simulate_endpoint(trace((0, 1), (40, 1)), cfg("breakeven")).billed_seconds == 32 * MIN
    short = cfg("breakeven", cold_start_penalty_seconds=2 * MIN)
    assert simulate_endpoint(trace((0, 1), (40, 1)), short).billed_seconds == 20 * MIN


def test_always_on_wakes_at_the_first_tick():
    r = simulate_endpoint(trace((0, 1), (40, 1)), cfg("always-on"))
    assert (r.billed_seconds, r.cold_starts, r.prewarms) == (120 * MIN, 1, 0)
    r = simulate_endpoint(trace((5, 1)), cfg("always-on"))
    assert (r.billed_seconds, r.cold_starts, r.prewarms, r.waits) == (120 * MIN, 1, 1, {3 * MIN: 1})


def test_adaptive_learns_an_hourly_timer_and_pre_warms_it():
    hourly = trace(*[(60 * hour, 1) for hour in range(11)], end_minutes=660)
    r = simulate_endpoint(hourly, exact_adaptive())
    # 0: cold, sleeps when ready (nothing learned). 60: cold; one 60-minute gap says "pre-warm at 52".
    # 112, 172, ..., 592: pre-warms, ready on the hour, sleep one minute after the request (the in-flight guard:
    # never within 60 s of a request), so 9 minutes each. 652: a pre-warm in vain, billed to the end at 660.
    assert r.cold_starts == 2
    assert r.prewarms == 10
    assert r.billed_seconds == (8 + 8 + 9 * 9 + 8) * MIN
    optimum = offline_optimum(hourly, W, W).cost_seconds
    assert optimum == 11 * 16 * MIN
    assert (r.billed_seconds + r.cold_starts * W) / optimum == pytest.approx(121 / 176)


def test_keep_warm_window_in_the_simulation():
    # 1970-01-01 was a Thursday; the window 00:10-00:20 starts a wake at 00:02
    warm = KeepWarm.parse("daily 00:10-00:20 UTC")
    r = simulate_endpoint(trace((30, 1), end_minutes=60), cfg("fixed-15-15"), keep_warm=warm)
    # awake 2 -> idle clock from the wake (2) -> check at 30, but the request at 30 moves it to the 45 check
    assert (r.billed_seconds, r.cold_starts, r.prewarms) == ((45 - 2) * MIN, 0, 1)


def test_grace_after_ready_delays_a_sleep():
    one = trace((0, 1))
    assert simulate_endpoint(one, exact_adaptive()).billed_seconds == 8 * MIN
    assert simulate_endpoint(one, exact_adaptive(), min_ready_seconds=5 * MIN).billed_seconds == 13 * MIN


# ------------------------------------------------------------------------------------- jump == tick
def _random_trace(rng: random.Random, *, bin_seconds: float = MIN, start: float = 0.0) -> EndpointTrace:
    length = rng.randint(60, 600)
    requests = []
    when = rng.choice([0, 3, 17])
    while when < length:
        requests.append((start + when * bin_seconds, rng.choice([1, 1, 1, 2, 7])))
        when += rng.choice([1, 1, 2, 5, 9, 15, 16, 17, 30, 52, 60, 60, 60, 61, 120])
    return EndpointTrace(
        name="r", start=start, end=start + length * bin_seconds, bin_seconds=bin_seconds, requests=tuple(requests)
    )


@pytest.mark.slow
def test_jumping_between_events_gives_exactly_the_per_minute_result():
    rng = random.Random(11)
    configs = [cfg(name) for name in ALL_PRESETS] + [
        exact_adaptive(),
        cfg("fixed", idle_timeout_seconds=420, check_interval_seconds=120),
    ]
    warm = KeepWarm.parse("daily 02:00-03:30 UTC; Thu 05:00-05:10 UTC")
    for case in range(24):
        bins, start = [(MIN, 0.0), (30.0, 17.0), (MIN, 86_400.0 * 3 + 30)][case % 3]
        t = _random_trace(rng, bin_seconds=bins, start=start)
        for c in configs:
            for options in ({}, {"keep_warm": warm}, {"min_ready_seconds": 300.0}):
                jumped = simulate_endpoint(t, c, **options)
                ticked = simulate_endpoint(t, c, jump=False, **options)
                assert jumped.as_tuple() == ticked.as_tuple(), (case, c.display_name, options)


def test_costs_respect_the_optima():
    rng = random.Random(5)
    for _ in range(30):
        t = _random_trace(rng)
        optimum = offline_optimum(t, W, W).cost_seconds
        bound = clairvoyant_optimum(t, W)
        assert bound <= optimum + 1e-6
        for name in ALL_PRESETS:
            cost = simulate_endpoint(t, cfg(name)).cost_seconds()
            assert cost >= bound - 1e-6, name
            if name in ("fixed-15-15", "alarm-3x5+5", "breakeven"):  # wake only on requests
                assert cost >= optimum - 1e-6, name


# ------------------------------------------------------------------------------------------ reports
def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == pytest.approx(9.1)
    assert math.isnan(percentile([], 50))


def test_summary_of_several_endpoints():
    options = RunOptions(policies=("fixed-15-15", "breakeven"), wake_seconds=W, hourly_price=3.6, penalty_seconds=W)
    traces = [trace((0, 1), (40, 1)), trace(), trace((0, 1), (30, 1), (33, 1))]
    summary = summarise(run_endpoints(traces, options), options)
    assert (summary["endpoints"], summary["endpoints_without_requests"], summary["requests"]) == (3, 1, 5)
    fixed, breakeven, offline, clairvoyant = summary["policies"]
    assert [p["policy"] for p in summary["policies"]] == ["fixed-15-15", "breakeven", "offline-optimum", "clairvoyant"]
    # fixed: (35 + 2 x 8) / 32 on the first; on the third 0-15, then 30-60 (the request at 33 moves the check
    # from 45 to 60) and 3 waits of 8, 8 and 5 minutes: (45 + 21) / 37 (the optimum: 16 billed + 21 of waits)
    assert fixed["ratio"]["median"] == pytest.approx((51 / 32 + 66 / 37) / 2)
    assert fixed["ratio"]["aggregate"] == pytest.approx((51 + 66) / (32 + 37))
    assert fixed["billed_hours"] == pytest.approx((35 + 45) / 60)
    assert fixed["cost_usd"] == pytest.approx((35 + 45) / 60 * 3.6)
    assert fixed["total_usd"] == pytest.approx((35 + 45 + 4 * 8 + 5) / 60 * 3.6)
    assert fixed["cold_starts"] == 5
    assert fixed["wait_p95_minutes"] == 8  # every request waited
    assert offline["ratio"]["median"] == 1 and offline["cold_starts"] == 2 + 3
    assert clairvoyant["ratio"]["aggregate"] == pytest.approx((8 + 8 + 8 + 8 + 3) / (32 + 37))
    assert breakeven["ratio"]["p90"] >= breakeven["ratio"]["median"]


def test_wait_percentile_counts_requests_that_did_not_wait():
    options = RunOptions(policies=("always-on",), wake_seconds=W, hourly_price=1.0, penalty_seconds=W)
    busy = trace(*[(minute, 1) for minute in range(0, 200)], end_minutes=200)
    summary = summarise(run_endpoints([busy], options), options)
    always_on = summary["policies"][0]
    assert always_on["cold_starts"] == 8  # minutes 0..7 wait for the wake started at 0
    assert always_on["wait_p95_minutes"] == 0  # 4% of the requests waited
    assert always_on["wait_total_minutes"] == sum(range(1, 9))
    half = summarise(run_endpoints([trace(*[(minute, 1) for minute in range(0, 100)])], options), options)
    assert half["policies"][0]["wait_p95_minutes"] == 3  # 8% waited 1..8 minutes: the 95th of 100 waited 3


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_json_on_a_file_of_endpoints(capsys):
    assert (
        main(["--trace", str(DATA / "azure_small.csv"), "--policy", "all", "--json", "--per-endpoint", "--jobs", "1"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["endpoints"] == 3 and out["endpoints_without_requests"] == 1
    assert [p["policy"] for p in out["policies"]] == [*ALL_PRESETS, "offline-optimum", "clairvoyant"]
    assert out["wake_minutes"] == 8 and out["cold_start_penalty_minutes"] == 8
    assert out["instance_type"] == "ml.g4dn.xlarge" and out["hourly_price"] == pytest.approx(0.7364)
    idle = next(e for e in out["per_endpoint"] if e["name"] == "fn-idle")
    assert idle["ratios"]["adaptive"] is None


def test_cli_table_for_one_endpoint(capsys):
    assert (
        main(
            [
                "--trace",
                str(DATA / "hourly_iso.csv"),
                "--policy",
                "breakeven,adaptive",
                "--wake-minutes",
                "5",
                "--cold-start-penalty-minutes",
                "10",
                "--instance-type",
                "ml.g5.xlarge",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1 endpoint, 10 requests; W = 5 min, ml.g5.xlarge x1 at $1.4080/h, cold-start penalty = 10 min" in out
    header = next(line for line in out.splitlines() if line.startswith("policy"))
    assert header.split()[-2:] == ["ratio", "r"] and "ratio med" not in header
    assert "adaptive" in out and "offline-optimum *" in out
    assert "best-fixed-hindsight" not in out  # only on request


def test_cli_hindsight_names_the_best_timeout_of_one_endpoint(capsys):
    assert main(["--trace", str(DATA / "hourly_iso.csv"), "--policy", "breakeven", "--hindsight"]) == 0
    out = capsys.readouterr().out
    assert "best-fixed-hindsight *" in out
    # hourly requests: an hour idle costs more than a wake and a wait, so the best timeout sleeps when ready
    assert "whole trace; it is 0 min" in out


def test_cli_many_endpoints_in_parallel_gives_the_same_figures(capsys):
    args = ["--trace", str(DATA / "azure_small.csv"), "--policy", "all", "--json"]
    main([*args, "--jobs", "1"])
    serial = json.loads(capsys.readouterr().out)
    main([*args, "--jobs", "2"])
    parallel = json.loads(capsys.readouterr().out)
    assert serial["policies"] == parallel["policies"]


def test_cli_options_for_grace_keep_warm_and_request_counts(capsys):
    assert (
        main(
            [
                "--trace",
                str(DATA / "azure_small.csv"),
                "--policy",
                "adaptive",
                "--json",
                "--jobs",
                "1",
                "--min-ready-minutes",
                "5",
                "--keep-warm",
                "daily 00:02-00:04",
                "--request-counts",
                "--start",
                "1970-01-01T00:00:00Z",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["min_ready_minutes"], out["keep_warm"], out["request_counts"]) == (5, "daily 00:02-00:04", True)
    # the window's claim starts W before 00:02, so the first tick wakes the two endpoints without a request then
    assert out["policies"][0]["prewarms"] == 2


def test_request_counts_change_what_adaptive_learns_not_what_it_is_charged():
    bursty = trace(*[(minute, 30) for minute in range(0, 600, 20)], end_minutes=600)
    plain = simulate_endpoint(bursty, cfg("adaptive"))
    counted = simulate_endpoint(bursty, cfg("adaptive"), request_counts=True)
    assert plain.requests == counted.requests == 30 * 30
    assert counted.cost_seconds() <= plain.cost_seconds()


def test_cli_bad_trace_names_file_and_line(capsys):
    assert main(["--trace", str(DATA / "bad_negative.csv")]) == 2
    assert "bad_negative.csv:3: count: negative count -2" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--policy", "lazy"], "unknown policy lazy"),
        (["--instance-type", "ml.banana.xlarge"], "no price known"),
        (["--wake-minutes", "-1"], "--wake-minutes must be"),
        (["--keep-warm", "Mon-Fry 09:00-18:00"], "--keep-warm"),
        (["--start", "yesterday"], "--start"),
    ],
)
def test_cli_bad_options(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--trace", str(DATA / "hourly_iso.csv"), *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_json_per_endpoint_names_each_best_fixed_timeout(tmp_path, capsys):
    # the hand-worked trace of test_hindsight_fixed_picks_the_timeout_that_catches_the_short_gap_only, in the
    # Azure format (minute 1 = time 0), beside an endpoint without requests
    minutes = [0] * 120
    minutes[0] = minutes[10] = minutes[100] = 1
    path = tmp_path / "two.csv"
    path.write_text(
        "HashFunction,HashOwner,HashApp,"
        + ",".join(f"{m}_minute" for m in range(1, 121))
        + "\n"
        + "fn-gaps,o,a,"
        + ",".join(map(str, minutes))
        + "\n"
        + "fn-idle,o,a,"
        + ",".join("0" * 120)
        + "\n"
    )
    assert (
        main(
            [
                "--trace",
                str(path),
                "--policy",
                "breakeven",
                "--hindsight",
                "--json",
                "--per-endpoint",
                "--min-ready-minutes",
                "0",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["policies"][-1]["policy"] == "best-fixed-hindsight"
    gaps, idle = out["per_endpoint"]
    assert gaps["best_fixed_timeout_minutes"] == 10 and gaps["best_fixed_ratio"] == pytest.approx(46 / 35)
    # breakeven's 16 minutes: 0-26 and 100-116 billed, two waits: 42 + 16; the optimum 11 + 8 billed + 16
    assert gaps["ratios"]["breakeven"] == pytest.approx(58 / 35)
    assert idle["best_fixed_ratio"] is None


# ------------------------------------------------------------------------ bad traces: one line, exit 2
def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("huge_field.csv", "timestamp,count\n0,1\n60," + "1" * 131_073 + "\n", ":3: not readable as CSV: field larger"),
        ("count_1e308.csv", "timestamp,count\n0,1\n60,1e308\n", ":3: count: count 1e308 is too large"),
        ("count_400_digits.csv", "timestamp,count\n0,1\n60," + "9" * 400 + "\n", ":3: count: count 9999"),
        ("azure_1e308.csv", "HashFunction,HashOwner,HashApp,1,2\nf,o,a,0,1e308\n", ":2: minute 2: count 1e308 is too"),
        ("azure_header_only.csv", "HashFunction,HashOwner,HashApp,1,2,3\n", ":1: no rows after the header"),
        ("far_future.csv", "timestamp,count\n0,1\n1e15,1\n", ":3: timestamp '1e15' is out of range"),
    ],
)
def test_cli_bad_trace_is_one_line_and_exit_2(tmp_path, capsys, name, text, message):
    path = _write(tmp_path, name, text)
    assert main(["--trace", path, "--policy", "breakeven", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and message in err
    assert len(err.strip().splitlines()) == 1 and len(err) < 500


def test_cli_far_future_timestamps_with_keep_warm_exit_2(tmp_path, capsys):
    path = _write(tmp_path, "far.csv", "timestamp,count\n0,1\n1e15,1\n")
    assert main(["--trace", path, "--keep-warm", "Mon-Fri 09:00-18:00", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert ":3: timestamp '1e15' is out of range" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "option",
    [
        "--wake-minutes",
        "--cold-start-penalty-minutes",
        "--idle-timeout-minutes",
        "--min-ready-minutes",
        "--check-interval-minutes",
    ],
)
def test_cli_huge_minutes_are_an_option_error(tmp_path, capsys, option):
    path = _write(tmp_path, "ok.csv", "timestamp,count\n0,1\n600,1\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--trace", path, option, "1e308", "--jobs", "1"])
    assert exit_info.value.code == 2
    assert f"{option} must be at most" in capsys.readouterr().err


# ------------------------------------------------------------------ the optima bound every policy (Hypothesis)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

random_traces = st.lists(
    st.tuples(st.integers(0, 239), st.sampled_from([1, 1, 2, 5, 40, 700])), max_size=14, unique_by=lambda r: r[0]
).map(lambda reqs: trace(*sorted(reqs), end_minutes=240))


@settings(max_examples=60, deadline=None)
@given(
    t=random_traces,
    wake_minutes=st.sampled_from([1.0, 4.0, 8.0, 12.5]),
    penalty_factor=st.sampled_from([0.25, 1.0, 3.0]),
    grace=st.sampled_from([0.0, 120.0, 300.0]),
)
def test_no_policy_beats_the_clairvoyant_and_none_that_never_pre_warms_beats_the_offline_optimum(
    t, wake_minutes, penalty_factor, grace
):
    # Always-on wakes at the trace's first tick, before any request: a pre-warm. So it is held to the clairvoyant
    # bound (which may pre-warm, but not before the trace starts), like adaptive when it pre-warms.
    wake, penalty = wake_minutes * MIN, wake_minutes * MIN * penalty_factor
    bound = clairvoyant_optimum(t, wake, penalty)
    optimum = offline_optimum(
        t, wake, penalty, min_ready_seconds=grace, guard_seconds=60.0, tick_seconds=MIN
    ).cost_seconds
    assert bound <= optimum + 1e-6
    for name in ALL_PRESETS:
        result = simulate_endpoint(
            t, cfg(name, wake_seconds=wake, cold_start_penalty_seconds=penalty), min_ready_seconds=grace
        )
        assert result.cost_seconds() >= bound - 1e-6, name
        if result.prewarms == 0:
            assert result.cost_seconds() >= optimum - 1e-6, name


def test_bench_runs_every_trace_file_under_a_directory(tmp_path, capsys):
    nested = tmp_path / "llm"
    nested.mkdir()
    (nested / "source").mkdir()
    (nested / "source" / "raw.csv").write_text("not,a,trace,at,all\n")  # raw data: skipped by its name
    (tmp_path / "a_per_minute.csv").write_text("timestamp,count\n0,1\n600,3\n1200,0\n")
    (nested / "b_x2_azure_layout.csv").write_text("HashFunction,HashOwner,HashApp,1,2,3\nf,o,a,1,0,1\ng,o,a,0,0,0\n")
    assert main(["--trace", str(tmp_path), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "a_per_minute.csv: 1 endpoint, 4 requests" in out
    assert "llm/b_x2_azure_layout.csv: 2 endpoints, 2 requests" in out
    assert "all 2 files, 3 endpoints" in out
    assert "r p99 <= 1.25 on every file" in out and "none that never pre-warms below the offline optimum: met" in out
