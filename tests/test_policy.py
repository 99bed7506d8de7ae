"""Idle policies: presets, hand-computed timelines (incl. pre-warm), lease, keep-warm, and the idle history."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime
from decimal import Decimal

import pytest

from sleepwake.domain.policy import (
    HISTOGRAM_MAX_SAMPLES,
    HISTOGRAM_MINUTES,
    SMOOTHING_POINTS,
    Decision,
    IdleHistory,
    Plan,
    PolicyConfig,
    best_plan,
    decide,
    plan_for,
    smooth,
)
from sleepwake.domain.schedule import KeepWarm

W = 480.0  # 8-minute wake
H = 1_700_002_800.0  # a whole hour (and a multiple of 15 minutes) since the epoch


def m(minutes: float) -> float:
    return H + minutes * 60.0


def cfg(name: str, **kw) -> PolicyConfig:
    kw.setdefault("wake_seconds", W)
    kw.setdefault("hourly_price", 0.7364)
    return PolicyConfig.named(name, **kw)


def exact(**kw) -> PolicyConfig:
    """adaptive without prior or smoothing: plans that can be worked out by hand."""
    return cfg("adaptive", adaptive_prior_weight=0.0, adaptive_smoothing=0.0, **kw)


def history(*activity_minutes: float) -> IdleHistory:
    h = IdleHistory()
    for minute in activity_minutes:
        h = h.observe(m(minute), m(minute), wake_seconds=W)
    return h


def awake(c: PolicyConfig, h: IdleHistory, now_min: float, since_min: float | None, **kw) -> Decision:
    return decide(c, h, now=m(now_min), awake=True, awake_since=None if since_min is None else m(since_min), **kw)


def asleep(c: PolicyConfig, h: IdleHistory, now_min: float, **kw) -> Decision:
    return decide(c, h, now=m(now_min), awake=False, awake_since=None, **kw)


# ---------------------------------------------------------------------------------------------- config
def test_presets():
    assert cfg("fixed-15-15").idle_timeout_seconds == 900 and cfg("fixed-15-15").check_interval_seconds == 900
    alarm = cfg("alarm-3x5+5")
    assert (alarm.name, alarm.idle_timeout_seconds, alarm.check_interval_seconds, alarm.post_alarm_wait_seconds) == (
        "fixed",
        900,
        300,
        300,
    )
    assert cfg("breakeven").breakeven_seconds == 2 * W
    assert cfg("breakeven", cold_start_penalty_seconds=120).breakeven_seconds == W + 120
    assert cfg("adaptive").penalty_seconds == W
    assert cfg("adaptive").display_name == "adaptive"
    assert cfg("fixed", idle_timeout_seconds=600).idle_timeout_seconds == 600


def test_unknown_policy_lists_the_valid_ones():
    with pytest.raises(ValueError, match="always-on, fixed-15-15, alarm-3x5\\+5, breakeven, adaptive, fixed"):
        PolicyConfig.named("lazy", wake_seconds=W, hourly_price=1)
    with pytest.raises(ValueError, match="valid: always-on, fixed, breakeven, adaptive"):
        PolicyConfig(name="lazy", wake_seconds=W, hourly_price=1)
    with pytest.raises(TypeError, match="wake_seconds"):
        PolicyConfig.named("adaptive", hourly_price=1)


@pytest.mark.parametrize(
    "field, value",
    [
        ("wake_seconds", -1),
        ("hourly_price", math.nan),
        ("check_interval_seconds", 0),
        ("idle_timeout_seconds", "15"),
        ("cold_start_penalty_seconds", -5),
        ("adaptive_smoothing", 1.0),
        ("adaptive_prior_weight", math.inf),
    ],
)
def test_bad_numbers_are_rejected_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        cfg("adaptive", **{field: value})


# ------------------------------------------------------------------------------------- seed policies
def test_fixed_15_15_sleeps_at_the_first_quarter_hour_check_15_minutes_after_the_last_request():
    c, h = cfg("fixed-15-15"), history(3)
    assert awake(c, h, 20, 3) == Decision("keep", awake(c, h, 20, 3).reason, m(30), None)
    assert awake(c, h, 29, 3).action == "keep"
    assert awake(c, h, 30, 3).action == "sleep"
    # activity exactly on a check: 15 minutes later is a check too
    assert awake(c, history(0), 14, 0).sleep_at == m(15)


def test_alarm_3x5_plus_5_sleeps_after_three_idle_periods_and_a_five_minute_wait():
    c = cfg("alarm-3x5+5")
    assert awake(c, history(3), 4, 3).sleep_at == m(25)  # alarm at the 12:20-like check, +5
    assert awake(c, history(0), 4, 0).sleep_at == m(20)
    assert awake(c, history(3), 24, 3).action == "keep"
    assert awake(c, history(3), 25, 3).action == "sleep"


def test_breakeven_timeout_is_wake_plus_penalty():
    assert awake(cfg("breakeven"), history(3), 4, 3).sleep_at == m(19)
    assert awake(cfg("breakeven", cold_start_penalty_seconds=120), history(3), 4, 3).sleep_at == m(13)


def test_fixed_idle_clock_starts_at_a_later_wake():
    # woken at minute 100 (a lease ended, a keep-warm window) with the last request at minute 3
    assert awake(cfg("fixed-15-15"), history(3), 101, 100).sleep_at == m(120)


def test_seed_policies_never_wake_a_sleeping_endpoint_and_always_on_never_sleeps():
    for name in ("fixed-15-15", "alarm-3x5+5", "breakeven"):
        d = asleep(cfg(name), history(3), 500)
        assert (d.action, d.wake_at) == ("keep", None)
    assert asleep(cfg("always-on"), IdleHistory(), 0).action == "wake"
    d = awake(cfg("always-on"), history(3), 10_000, 0)
    assert (d.action, d.sleep_at) == ("keep", None)


# --------------------------------------------------------------------------------------------- plans
def test_plan_for_an_hourly_timer_is_to_sleep_then_pre_warm():
    plan = best_plan({60: 10}, 0, 8, 8)
    assert (plan.keep_minutes, plan.prewarm_minutes, plan.until_minutes) == (0, 52, 60)
    assert plan.expected_cost == pytest.approx(8)  # the wake, and nothing else


def test_plan_for_short_gaps_is_to_stay():
    plan = best_plan({3: 10}, 0, 8, 8)
    assert (plan.keep_minutes, plan.prewarm_minutes) == (3, None)
    assert plan.expected_cost == pytest.approx(3)


def test_plan_mixing_a_keep_alive_and_a_pre_warm():
    # 8 gaps of 5 min, 2 of 60: keep 5 (8 x 5 + 2 x 5) and pre-warm at 52 (2 x 8): 66 / 10 per gap,
    # against keep-5-only 8.2, stay-60 16, sleep-and-pre-warm 14.4
    plan = best_plan({5: 8, 60: 2}, 0, 8, 8)
    assert (plan.keep_minutes, plan.prewarm_minutes, plan.until_minutes) == (5, 52, 60)
    assert plan.expected_cost == pytest.approx(6.6)


def test_plan_for_endless_gaps_is_to_sleep_when_ready():
    plan = best_plan({}, 5, 8, 8)
    assert (plan.keep_minutes, plan.prewarm_minutes) == (0, None)
    assert best_plan({}, 0, 8, 8).keep_minutes == 0


def test_exposure_prices_the_burst_that_meets_a_sleeping_endpoint():
    # 4 gaps of 20 min, 6 endless. One request after each: sleep (16 per gap) beats pre-warm (17.6) and keep (29.6).
    quiet = best_plan({20: 4}, 6, 8, 8, exposure={20: 4}, overflow_exposure=6)
    assert (quiet.keep_minutes, quiet.prewarm_minutes) == (0, None)
    assert quiet.expected_cost == pytest.approx(16)
    # four active minutes follow each 20-minute gap: a cold start there costs 8 + 4 x 8 (25.6 a gap): pre-warm
    bursty = best_plan({20: 4}, 6, 8, 8, exposure={20: 16}, overflow_exposure=6)
    assert (bursty.keep_minutes, bursty.prewarm_minutes, bursty.until_minutes) == (0, 12, 20)
    assert bursty.expected_cost == pytest.approx(17.6)


def _direct_cost(counts, overflow, wake, penalty, exposure, overflow_exposure, k, x, e):
    total = 0.0
    for g, n in counts.items():
        cold = n * wake + penalty * exposure[g]
        if g <= k:
            total += n * g
        elif x is None or g < x + wake:
            total += n * k + cold
        elif g <= e:
            total += n * (k + g - x)
        else:
            total += n * (k + e - x) + cold
    extra = 0.0 if x is None else e - x
    return total + overflow * (k + extra + wake) + penalty * overflow_exposure


def test_best_plan_equals_an_exhaustive_search():
    rng = random.Random(7)
    for _ in range(150):
        counts = {rng.randint(1, 60): rng.randint(1, 6) for _ in range(rng.randint(1, 6))}
        exposure = {g: n * rng.choice([1, 1, 2, 5]) for g, n in counts.items()}
        overflow = rng.choice([0, 0, 1, 3])
        overflow_exposure = overflow * rng.choice([1, 3])
        wake, penalty = rng.choice([(8, 8), (5, 5), (10, 3), (7.5, 8)])
        plan = best_plan(counts, overflow, wake, penalty, exposure=exposure, overflow_exposure=overflow_exposure)
        total = sum(counts.values()) + overflow
        got = _direct_cost(
            counts,
            overflow,
            wake,
            penalty,
            exposure,
            overflow_exposure,
            plan.keep_minutes,
            plan.prewarm_minutes,
            plan.until_minutes,
        )
        assert got / total == pytest.approx(plan.expected_cost)
        best = math.inf
        for k in range(0, 62):
            best = min(best, _direct_cost(counts, overflow, wake, penalty, exposure, overflow_exposure, k, None, None))
            for x in range(math.ceil(k + wake), 62):  # a sleep before a pre-warm lasts at least W
                for e in range(math.ceil(x + wake), 62):
                    best = min(
                        best, _direct_cost(counts, overflow, wake, penalty, exposure, overflow_exposure, k, x, e)
                    )
        assert got == pytest.approx(best), (counts, overflow, wake, penalty)


def test_default_plan_learns_from_the_prior_to_a_pre_warm():
    c = cfg("adaptive")
    assert plan_for(c, IdleHistory()).keep_minutes == 0  # used once so far: sleep as soon as it is ready
    assert plan_for(c, history(0, 12)).keep_minutes == 0  # one 12-minute gap is not enough to stay for
    assert plan_for(c, history(*range(0, 200, 12))).keep_minutes >= 12  # sixteen are
    assert plan_for(c, history(*range(0, 180, 60))).prewarm_minutes is None  # two hourly gaps: not yet
    timer = plan_for(c, history(*range(0, 600, 60)))  # nine: pre-warm, ready a little before the hour
    assert timer.keep_minutes == 0 and 40 <= timer.prewarm_minutes <= 52 and 60 <= timer.until_minutes <= 70
    h = history(0, 60, 120)
    assert plan_for(c, h) is plan_for(c, h)  # cached per history object


def test_no_pre_warm_right_after_a_sleep():
    # 12-minute gaps: sleeping at 0 to pre-warm at 4 would save 4 minutes a gap but churn the endpoint
    plan = best_plan({12: 10}, 0, 8, 8)
    assert (plan.keep_minutes, plan.prewarm_minutes) == (12, None)
    assert best_plan({12: 10}, 0, 8, 8, min_sleep=1).prewarm_minutes == 4


# ---------------------------------------------------------------------------------- adaptive timeline
def test_adaptive_pre_warm_timeline():
    # an hourly timer: gaps of 60 minutes, the last request at minute 180
    c, h = exact(), history(0, 60, 120, 180)
    plan = plan_for(c, h)
    assert (plan.keep_minutes, plan.prewarm_minutes, plan.until_minutes) == (0, 52, 60)
    # just served (pre-warmed at 172): sleep at once
    assert awake(c, h, 180, 172).action == "sleep"
    # asleep: nothing until the pre-warm at 232 (= 180 + 60 - 8)
    d = asleep(c, h, 181)
    assert (d.action, d.wake_at) == ("keep", m(232))
    assert asleep(c, h, 231).action == "keep"
    assert asleep(c, h, 232).action == "wake"
    # pre-warmed at 232: keep until 240, then sleep if the request did not come
    d = awake(c, h, 236, 232)
    assert (d.action, d.sleep_at) == ("keep", m(240))
    assert awake(c, h, 240, 232).action == "sleep"
    # a tick that finds it asleep too late to be ready by 240 does not wake it
    d = asleep(c, h, 233)
    assert (d.action, d.wake_at) == ("keep", None)


def test_adaptive_stays_awake_when_ready_inside_its_pre_warm_window():
    # gaps of 16 minutes: sleep, pre-warm at 8, ready at 16. After a cold start at 48 it is ready at 56, when the
    # window (56, 64) opens: it stays to 64 instead of sleeping and missing the request.
    c, h = exact(), history(0, 16, 32, 48)
    plan = plan_for(c, h)
    assert (plan.keep_minutes, plan.prewarm_minutes, plan.until_minutes) == (0, 8, 16)
    assert awake(c, h, 48, 48).action == "sleep"  # (ignored while it is still waking)
    d = awake(c, h, 56, 48)
    assert (d.action, d.sleep_at) == ("keep", m(64))
    assert awake(c, h, 64, 48).action == "sleep"


def test_adaptive_keep_alive_and_no_activity_cases():
    c = exact()
    h = history(*range(0, 100, 3))  # gaps of 3 minutes
    assert plan_for(c, h).keep_minutes == 3
    assert awake(c, h, 99, 0).sleep_at == m(102)
    assert awake(c, h, 102, 0).action == "sleep"
    # a later wake (a lease, a window) restarts the keep-alive clock
    assert awake(c, h, 500, 499).sleep_at == m(502)
    # never used: sleep once the keep-alive after the wake is over
    assert awake(c, IdleHistory(), 10, 10).action == "sleep"
    assert asleep(c, IdleHistory(), 10).action == "keep"


# ------------------------------------------------------------------------------------ lease, keep-warm
def test_lease_keeps_awake_and_wakes():
    c, h = cfg("fixed-15-15"), history(3)
    d = awake(c, h, 20, 3, lease_until=m(45))
    assert (d.action, d.sleep_at) == ("keep", m(45))
    assert "leased until" in d.reason
    assert awake(c, h, 20, 3, lease_until=m(25)).sleep_at == m(30)  # the policy outlasts the lease
    assert awake(c, h, 45, 3, lease_until=m(45)).action == "sleep"  # lease over
    d = asleep(c, h, 50, lease_until=m(60))
    assert (d.action, d.wake_at) == ("wake", m(50))
    assert asleep(cfg("adaptive"), h, 50, lease_until=m(60)).action == "wake"


def test_keep_warm_window_wakes_early_holds_and_releases():
    monday = datetime.fromisoformat("2024-05-06T00:00:00+00:00").timestamp()

    def t(hhmm: str) -> float:
        hours, minutes = hhmm.split(":")
        return monday + int(hours) * 3600 + int(minutes) * 60

    warm = KeepWarm.parse("Mon-Fri 09:00-18:00 UTC")
    c = cfg("fixed-15-15")
    h = IdleHistory().observe(t("07:00"), t("07:00"))
    # asleep before the window: plan to wake W before it
    d = decide(c, h, now=t("08:00"), awake=False, awake_since=None, keep_warm=warm)
    assert (d.action, d.wake_at) == ("keep", t("08:52"))
    d = decide(c, h, now=t("08:52"), awake=False, awake_since=None, keep_warm=warm)
    assert d.action == "wake"
    # awake inside the window: the idle rule waits for its end
    d = decide(c, h, now=t("12:00"), awake=True, awake_since=t("08:52"), keep_warm=warm)
    assert (d.action, d.sleep_at) == ("keep", t("18:00"))
    assert "keep-warm" in d.reason
    # at the end: idle since the wake at 08:52, long past the timeout
    d = decide(c, h, now=t("18:00"), awake=True, awake_since=t("08:52"), keep_warm=warm)
    assert d.action == "sleep"
    # activity at 17:55 outlasts the window by the policy's own rule
    h2 = h.observe(t("17:55"), t("17:55"))
    d = decide(c, h2, now=t("18:00"), awake=True, awake_since=t("08:52"), keep_warm=warm)
    assert (d.action, d.sleep_at) == ("keep", t("18:15"))
    # an adaptive pre-warm earlier than the window wins
    hourly = IdleHistory()
    for hour in range(0, 8):
        hourly = hourly.observe(t(f"{hour:02d}:00"), t(f"{hour:02d}:00"))
    d = decide(exact(), hourly, now=t("07:01"), awake=False, awake_since=None, keep_warm=warm)
    assert (d.action, d.wake_at) == ("keep", t("07:52"))
    # awake in the W before the window: keep (no sleep just to wake again)
    d = decide(c, h, now=t("08:55"), awake=True, awake_since=t("07:00"), keep_warm=warm)
    assert (d.action, d.sleep_at) == ("keep", t("18:00"))


# ----------------------------------------------------------------------------------------- history
def test_observe_records_gaps_in_whole_minutes():
    h = IdleHistory()
    assert h.observe(H, None) is h
    h = h.observe(m(0), m(0))
    assert (h.last_activity, h.counts, h.samples) == (m(0), {}, 0)
    assert h.observe(m(1), m(0)) is h  # nothing new
    assert h.observe(m(1), m(-5)) is h  # older activity is ignored
    h = h.observe(m(2), m(1.5))  # 90 s -> 2 minutes
    h = h.observe(m(2), m(1.5) + 20)  # 20 s -> at least 1 minute
    h = h.observe(m(400), m(400))  # longer than the histogram
    assert h.counts == {2: 1, 1: 1}
    assert h.overflow == 1 and h.samples == 3


def test_exposure_counts_active_minutes_within_w_after_a_gap():
    h = history(0, 100, 103, 200)
    # gap 100 ended at 100; 100 and 103 fall within 8 minutes of it; settled by the activity at 200
    # gap 3 ended at 103: only itself; settled at 200. gap 97 ended at 200: still pending
    assert h.counts == {100: 1, 3: 1, 97: 1}
    assert h.exposure == {100: 2, 3: 1}
    assert h.pending == ((97, m(200), 1),)


def test_exposure_counts_requests_when_told_them():
    h = IdleHistory()
    for minute, requests in ((0, 3), (100, 40), (103, 2), (200, 1)):
        h = h.observe(m(minute), m(minute), wake_seconds=W, requests=requests)
    assert h.exposure == {100: 42, 3: 2}
    assert h.pending == ((97, m(200), 1),)


def test_smoothing_narrows_as_a_gap_length_repeats():
    once, _ = smooth({60: 1}, {}, 0.25)
    assert sorted(once) == [45, 53, 60, 68, 75] and len(once) == SMOOTHING_POINTS
    assert once[60] == pytest.approx(3 / 9) and once[45] == pytest.approx(1 / 9)  # a triangle around 60
    often, _ = smooth({60: 25}, {}, 0.25)
    assert min(often) == 57 and max(often) == 63
    assert sum(often.values()) == pytest.approx(25)
    assert smooth({3: 4}, {3: 8}, 0.25) == ({3: 4.0}, {3: 8.0})  # too short to spread
    assert smooth({60: 2}, {}, 0.0) == ({60: 2.0}, {60: 2.0})


def test_observing_every_tick_gives_the_same_history_as_observing_activity_only():
    activity = [0, 1, 2, 30, 31, 95, 96, 97, 98, 300, 301, 360]
    sparse = history(*activity)
    dense = IdleHistory()
    last = None
    for minute in range(0, 400):
        if minute in activity:
            last = m(minute)
        dense = dense.observe(m(minute), last, wake_seconds=W)
    assert dense == sparse


def test_history_item_round_trip_and_tolerance():
    h = history(0, 5, 10, 300, 301)
    item = h.to_item()
    assert json.loads(json.dumps(item)) == item
    assert IdleHistory.from_item(item) == h
    assert IdleHistory.from_item(None) == IdleHistory()
    assert IdleHistory.from_item({}) == IdleHistory()
    older = IdleHistory.from_item({"last_activity": Decimal("1700000000"), "bins": [[5, Decimal(2)], ["7", 1]]})
    assert (older.last_activity, older.counts, older.exposure) == (1_700_000_000.0, {5: 2, 7: 1}, {5: 2, 7: 1})
    assert IdleHistory.from_item({"bins": {"5": 3}}).counts == {5: 3}


@pytest.mark.parametrize(
    "item, field",
    [
        ({"last_activity": "soon"}, "last_activity"),
        ({"bins": [[0, 1, 1]]}, "bins"),
        ({"bins": [[5, -1, 0]]}, "bins"),
        ({"bins": [[5, 1.5]]}, "bins"),
        ({"bins": "5:1"}, "bins"),
        ({"bins": [[5]]}, "bins"),
        ({"overflow": -1}, "overflow"),
        ({"overflow_exposure": True}, "overflow_exposure"),
        ({"pending": [[3, 1.0]]}, "pending"),
        ({"pending": [[HISTOGRAM_MINUTES + 1, 1.0, 1]]}, "pending"),
        ("nonsense", "map"),
    ],
)
def test_corrupt_history_names_the_field(item, field):
    with pytest.raises(ValueError, match=field):
        IdleHistory.from_item(item)


def test_history_is_bounded():
    full = IdleHistory.from_item(
        {"last_activity": m(0), "bins": [[1, HISTOGRAM_MAX_SAMPLES, HISTOGRAM_MAX_SAMPLES], [60, 3, 3]]}
    )
    h = full.observe(m(1), m(1))
    assert h.samples <= HISTOGRAM_MAX_SAMPLES
    assert h.counts == {1: (HISTOGRAM_MAX_SAMPLES + 1) // 2, 60: 1}
    assert len(json.dumps(history(*range(0, 1440, 7)).to_item())) < 4000


def test_decide_answers_are_stable_until_their_own_deadline():
    """What the simulator relies on to jump: without new activity, nothing changes before sleep_at / wake_at."""
    for c in (cfg("fixed-15-15"), cfg("alarm-3x5+5"), cfg("breakeven"), cfg("adaptive"), exact()):
        for h in (history(0), history(0, 60, 120, 180), history(0, 10, 20, 30), history(*range(0, 60, 3))):
            last = h.last_activity
            for since in (None, last - 480, last):
                first = decide(c, h, now=last, awake=True, awake_since=since)
                if first.action == "keep" and first.sleep_at is not None:
                    for now in range(int(last), int(first.sleep_at), 60):
                        assert decide(c, h, now=now, awake=True, awake_since=since).action == "keep"
                    assert decide(c, h, now=first.sleep_at, awake=True, awake_since=since).action == "sleep"
            first = decide(c, h, now=last + 60, awake=False, awake_since=None)
            if first.action == "keep" and first.wake_at is not None:
                for now in range(int(last + 60), int(first.wake_at), 60):
                    assert decide(c, h, now=now, awake=False, awake_since=None).action == "keep"
                assert decide(c, h, now=first.wake_at, awake=False, awake_since=None).action == "wake"


# ------------------------------------------------------- one cost model: the yardsticks are the simulator
@pytest.mark.parametrize(
    "requests, minutes, by_hand",
    [
        # one request, then another 30 min later, timeout 12: awake 0-12 (idle clock from the wake's start at 0, so
        # the 12 minutes cover the 8-minute wake and the 2-minute grace), asleep; the second wakes it: 12 billed,
        # two whole-wake waits of 8 each
        ([(0, 1), (30, 1)], 12, 12 + 8 + 8),
        # timeout 0: still awake until ready + grace = 10; three requests at 5 wait 3 minutes each (pro rata)
        ([(0, 1), (5, 3), (30, 1)], 0, 10 + 8 + 3 * 3 + 8),
        # timeout 16 catches a 14-minute gap: awake 0-30 with one wait
        ([(0, 1), (14, 2), (30, 1)], 16, 30 + 8),
        # timeout 3: the idle clock starts at the wake (0), the grace holds it to 10; the 2 requests at 14 wake it
        # again (8 each), ready at 22, grace to 24; the one at 30 waits 8: billed 10 + 10, four waits of 8
        ([(0, 1), (14, 2), (30, 1)], 3, 10 + 10 + 4 * 8),
        # never sleeping (always-on once woken): awake 0-30, one wait
        ([(0, 1), (14, 2), (30, 1)], None, 30 + 8),
    ],
)
def test_replayed_timeout_costs_exactly_what_the_simulator_bills(monkeypatch, requests, minutes, by_hand):
    """The plan's yardsticks (a fixed timeout, or never sleeping, replayed on the history) are priced by the
    simulator's own rules: pinned here on hand-worked traces, billing and waits up to the last request."""
    from sleepwake.domain import policy
    from sleepwake.domain.simulation import EndpointTrace, simulate_endpoint

    monkeypatch.setattr(policy, "EXPERT_MEMORY_SECONDS", math.inf)  # no fading in a hand-worked example
    h = IdleHistory()
    for minute, count in requests:
        h = h.observe(m(minute), m(minute), wake_seconds=W, requests=count, grace_seconds=120.0)
    assert h.expert_costs()[minutes] == pytest.approx(by_hand * 60.0)
    # the trace ends at the last request, so the simulator's bill stops there too
    start = m(0)
    trace = EndpointTrace(
        name="t",
        start=start,
        end=m(requests[-1][0]),
        bin_seconds=60.0,
        requests=tuple((m(minute), count) for minute, count in requests),
    )
    name, extra = (
        ("always-on", {})
        if minutes is None
        else ("fixed", {"idle_timeout_seconds": minutes * 60.0, "check_interval_seconds": 60.0})
    )
    if minutes is None:  # always-on pre-warms at the first tick: start it at the first request instead
        extra = {}
    simulated = simulate_endpoint(trace, cfg(name, **extra), min_ready_seconds=120.0)
    assert simulated.cost_seconds() == pytest.approx(by_hand * 60.0)


def test_regret_guard_stops_sleeping_between_the_bins_of_a_busy_endpoint():
    # a busy endpoint with a request every minute and now and then a 3-minute pause: sleeping when ready after a
    # pause makes hundreds wait, so on this history never sleeping (or a long keep-alive) is the yardstick
    h = IdleHistory()
    minute = 0
    for i in range(200):
        minute += 3 if i % 20 == 19 else 1
        h = h.observe(m(minute), m(minute), wake_seconds=W, requests=50)
    plan = plan_for(cfg("adaptive"), h)
    assert plan.keep_minutes >= 3
    costs = h.expert_costs()
    assert costs[0] > 5 * costs[None]  # sleeping at once would have cost far more than staying on


def test_the_regret_guard_overrules_a_plan_that_is_behind_on_the_replayed_history(monkeypatch):
    from sleepwake.domain import policy

    h = history(*range(0, 100, 3))
    monkeypatch.setattr(policy, "_compute_plan", lambda c, hist: Plan(keep_minutes=0.0, basis="sleep when ready"))
    plan = plan_for(cfg("adaptive"), h)
    assert plan.keep_minutes == 3 and "regret guard" in plan.basis


def test_volume_makes_the_first_plan_keep_the_endpoint():
    one = IdleHistory().observe(m(0), m(0), wake_seconds=W, requests=1)
    burst = IdleHistory().observe(m(0), m(0), wake_seconds=W, requests=500)
    c = cfg("adaptive")
    assert plan_for(c, one).keep_minutes == 0  # one request: a wake makes one request wait
    assert plan_for(c, burst).keep_minutes >= c.breakeven_seconds / 60  # 500 at once: no sleep when ready


def test_history_with_volume_and_yardsticks_round_trips():
    h = IdleHistory()
    for minute in (0, 3, 20, 21):
        h = h.observe(m(minute), m(minute), wake_seconds=W, requests=7)
    back = IdleHistory.from_item(json.loads(json.dumps(h.to_item())))
    assert back.expert_costs() == pytest.approx(h.expert_costs())
    assert (back.requests, back.active) == (28, 4)
    with pytest.raises(ValueError, match="experts"):
        IdleHistory.from_item({**h.to_item(), "experts": [[1, 2]]})


# ------------------------------------------------ manager integration: measured wakes and request volume
def test_the_manager_measures_each_wake_once_and_uses_the_estimate_for_w():
    from dataclasses import replace

    from sleepwake.domain.lifecycle import Record, observe_activity, wake_estimate
    from sleepwake.domain.settings import Settings

    settings = Settings(table_name="t", endpoints={})
    rec = Record(endpoint_name="e")
    assert wake_estimate(rec, settings) == 480  # the configured first guess
    woke = replace(rec, wake_started_at=m(0), in_service_since=m(6))  # this wake took 6 minutes
    rec = observe_activity(woke, m(7), settings, None)
    assert (rec.wake_estimate_seconds, rec.wakes_measured) == (360.0, 1)
    assert observe_activity(rec, m(8), settings, None).wakes_measured == 1  # the same wake counts once
    rec = observe_activity(replace(rec, wake_started_at=m(100), in_service_since=m(110)), m(111), settings, None)
    assert rec.wakes_measured == 2 and rec.wake_estimate_seconds == pytest.approx(360 + 0.5 * 240)
    # an endpoint found serving since long ago is no measurement
    old = observe_activity(replace(rec, wake_started_at=m(0), in_service_since=m(600)), m(601), settings, None)
    assert old.wakes_measured == 2


def test_the_manager_tells_the_history_how_many_requests_came_since_the_last_tick():
    from dataclasses import replace

    from sleepwake.domain.lifecycle import Record, observe_activity
    from sleepwake.domain.settings import Settings

    settings = Settings(table_name="t", endpoints={})
    rec = replace(Record(endpoint_name="e"), last_activity=m(0), request_count=40)
    rec = observe_activity(rec, m(1), settings, None)
    assert rec.request_count_seen == 40 and IdleHistory.from_item(rec.history).requests == 40
    rec = observe_activity(replace(rec, last_activity=m(3), request_count=45), m(4), settings, None)
    assert rec.request_count_seen == 45 and IdleHistory.from_item(rec.history).requests == 45
    assert Record.from_item("e", {"request_count": "45", "wake_estimate_seconds": "300.5"}).request_count == 45


def test_recorded_calls_add_up_in_the_request_count_even_when_writes_are_coalesced(platform):
    from sleepwake.manager.activity import ActivityRecorder

    recorder = ActivityRecorder(platform.store.table_name, coalesce_seconds=30, clock=platform.clock)
    assert recorder.record("llm") is True  # written: 1 request
    for _ in range(9):
        recorder.record("llm")  # coalesced: counted, sent with the next write
    platform.clock.advance(31)
    assert recorder.record("llm") is True
    record = platform.store.get("llm")
    assert record.request_count == 11 and record.version == 0  # never bumps the manager's version
