"""`make demo` end to end: the manager's code against a moto server on 127.0.0.1, and real traffic replayed
through the manager giving exactly what the simulator computes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
import demo
from sleepwake.aws import clients as aws
from sleepwake_sim.traces import read_trace

pytestmark = [pytest.mark.moto, pytest.mark.slow]


def test_demo_walks_request_wake_ready_idle_sleep_and_cleans_up():
    with demo.local_aws() as url:
        assert url.startswith("http://127.0.0.1:")
        rows = demo.walk(wake_seconds=480)
    states = [r["state"] for r in rows]
    path = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert path == ["asleep", "waking", "ready", "sleeping", "asleep"]
    woke = next(r["t"] for r in rows if r["state"] == "ready")
    assert woke == 480
    last_request = max(r["t"] for r in rows if r["event"].startswith("request"))
    slept = next(r["t"] for r in rows if r["state"] == "sleeping")
    # the default adaptive policy keeps it for the keep-alive it learnt from the gaps it saw (never less than the
    # 60 s in-flight guard), and said when beforehand
    assert 60 <= slept - last_request <= 30 * 60
    assert "gaps seen" in next(r["message"] for r in rows if r["state"] == "sleeping")
    assert rows[-1]["billed_hours"] == pytest.approx(slept / 3600, abs=1e-4)  # answers round to 4 places
    assert not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1")


@pytest.fixture(scope="module", params=range(5), ids=lambda row: f"row{row}")
def replayed(request):
    """One row of the excerpt replayed through the manager (in an emulator of its own), once per row: the
    comparison with the simulator, the report's and the drawing all read this one replay."""
    trace = read_trace(demo.EXCERPT)[request.param]
    with mock_aws():
        aws.reset_clients()
        result = demo.replay(trace)
    aws.reset_clients()
    return trace, result


def test_replaying_real_traffic_through_the_manager_matches_the_simulator(replayed):
    trace, replayed = replayed
    simulated = demo.simulated(trace)
    assert replayed["billed_seconds"] == simulated.billed_seconds
    assert replayed["cold_starts"] == simulated.cold_starts
    assert replayed["wakes"] == simulated.wakes
    assert replayed["requests"] == simulated.requests


@pytest.mark.parametrize("replayed", [0], indirect=True, ids=["row0"])
def test_the_timeline_is_drawn(replayed, tmp_path):
    png = demo.plot(replayed[1]["timeline"], "test", tmp_path / "timeline.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_the_report_on_the_demo_trace_matches_the_simulator_for_every_policy(replayed):
    """The savings report is built from what the manager recorded (per-minute requests, billed periods, wakes),
    not from the CSV: its replay of every policy must give the simulator's figures on the CSV trace exactly."""
    from sleepwake.domain.policy import ALL_PRESETS, PolicyConfig
    from sleepwake.domain.pricing import hourly_price
    from sleepwake.domain.settings import Settings
    from sleepwake.domain.simulation import simulate_endpoint

    trace, replayed = replayed
    report = replayed["report"]
    assert report["ok"] and report["day"] == "1970-01-01"
    assert (report["from"], report["to"], report["requests"]) == (trace.start, trace.end, trace.total_requests)
    price = hourly_price(demo.INSTANCE)
    assert report["wake_estimate_seconds"] == 480
    totals = {}
    for name in ALL_PRESETS:
        cfg = PolicyConfig.named(
            name, wake_seconds=480.0, hourly_price=price, idle_timeout_seconds=float(Settings.idle_timeout_seconds)
        )
        sim = simulate_endpoint(trace, cfg, min_ready_seconds=float(Settings.min_in_service_seconds))
        figures = report["policies"][name]
        assert figures["awake_hours"] == round(sim.billed_seconds / 3600, 4), name
        assert figures["cost_usd"] == round(sim.billed_seconds / 3600 * price, 4), name
        assert figures["total_usd"] == round(sim.cost_seconds() / 3600 * price, 4), name
        assert (figures["wakes"], figures["requests_waited"]) == (sim.wakes, sim.cold_starts), name
        assert figures["wait_minutes"] == round(sum(w * n for w, n in sim.waits.items()) / 60, 2), name
        totals[name] = sim.cost_seconds()
    assert report["cheapest_policy"] == min(totals, key=lambda n: (totals[n], ALL_PRESETS.index(n)))
    # As it was: the manager's own bill and wakes are the simulator's for the configured (adaptive) policy.
    adaptive = report["policies"]["adaptive"]
    assert report["awake_hours"] == adaptive["awake_hours"] == round(replayed["billed_seconds"] / 3600, 4)
    assert (report["wakes"], report["requests_waited"]) == (adaptive["wakes"], adaptive["requests_waited"])
    assert report["always_on_usd"] == round((trace.end - trace.start) / 3600 * price, 4)
    assert all(took == 480 for took in report["wake_seconds"])
    if report["requests_waited"]:
        assert 0 < report["wait_p50_seconds"] <= report["wait_p95_seconds"] <= 480
