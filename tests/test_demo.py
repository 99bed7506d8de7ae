"""`make demo` end to end: the manager's handlers' code against a moto server on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))
import demo  # noqa: E402


def test_demo_walks_request_wake_ready_idle_sleep_and_cleans_up():
    with demo.local_aws() as url:
        assert url.startswith("http://127.0.0.1:")
        rows = demo.walk(wake_seconds=480)
    states = [r["state"] for r in rows]
    # collapse repeats: the order of states the endpoint went through
    path = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert path == ["asleep", "waking", "ready", "sleeping", "asleep"]
    woke = next(r["t"] for r in rows if r["state"] == "ready")
    assert woke == 480
    last_request = max(r["t"] for r in rows if r["event"].startswith("request"))
    slept = next(r["t"] for r in rows if r["state"] == "sleeping")
    assert 900 <= slept - last_request < 960  # within one tick of the 15-minute timeout
    assert rows[-1]["billed_hours"] == (slept / 3600)
    import os
    assert "AWS_ENDPOINT_URL" not in os.environ or not os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1")
