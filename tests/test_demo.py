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


@pytest.fixture(scope="module")
def replays():
    """Each row of the excerpt replayed through the manager once, for the comparisons and the drawing."""
    with mock_aws():
        aws.reset_clients()
        traces = read_trace(demo.EXCERPT)[:5]
        replayed = [(trace, demo.replay(trace)) for trace in traces]
    aws.reset_clients()
    return replayed


@pytest.mark.parametrize("row", range(5))
def test_replaying_real_traffic_through_the_manager_matches_the_simulator(replays, row):
    trace, replayed = replays[row]
    simulated = demo.simulated(trace)
    assert replayed["billed_seconds"] == simulated.billed_seconds
    assert replayed["cold_starts"] == simulated.cold_starts
    assert replayed["wakes"] == simulated.wakes
    assert replayed["requests"] == simulated.requests


def test_the_timeline_is_drawn(replays, tmp_path):
    png = demo.plot(replays[0][1]["timeline"], "test", tmp_path / "timeline.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
