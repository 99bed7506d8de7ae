#!/usr/bin/env python3
"""`make demo`: the sleep/wake manager on a local AWS emulator, no AWS account needed.

Starts moto on 127.0.0.1, creates the manager's table, a model and a GPU endpoint configuration there, and walks
one endpoint through request -> wake -> ready -> idle -> sleep on a fast virtual clock, through the same
event parsing and manager code the Lambda runs. Prints each decision and what the endpoint cost. Cleans up.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ENDPOINT = "demo-llm"
CONFIG = "demo-llm-config"
TABLE = "sleepwake-demo-state"
INSTANCE = "ml.g4dn.xlarge"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_aws() -> Iterator[str]:
    """A moto server on 127.0.0.1 for the duration, with dummy credentials; stopped (and forgotten) after."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log is noise here
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_XRAY_SDK_ENABLED",
            "AWS_PROFILE",
        )
    }
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        AWS_SESSION_TOKEN="demo",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_XRAY_SDK_ENABLED="false",
    )
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield os.environ["AWS_ENDPOINT_URL"]
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        from sleepwake.aws import clients as aws

        aws.reset_clients()


def build_manager(clock, wake_seconds: int, table: str = TABLE):
    from sleepwake.aws.notify import Notifier
    from sleepwake.aws.store import StateStore
    from sleepwake.domain.settings import load_settings
    from sleepwake.manager.service import Manager
    from sleepwake_sim.emulator import SimulatedLifecycle, create_model_and_config, create_state_table

    create_state_table(table)
    try:
        create_model_and_config("demo-llm-model", CONFIG, instance_type=INSTANCE)
    except Exception as exc:
        if "already exist" not in str(exc).lower():
            raise
    settings = load_settings(
        {
            "SLEEPWAKE_TABLE_NAME": table,
            "SLEEPWAKE_ENDPOINTS": json.dumps({ENDPOINT: {"endpoint_config_name": CONFIG, "instance_type": INSTANCE}}),
            "SLEEPWAKE_WAKE_ESTIMATE_SECONDS": str(wake_seconds),
            "SLEEPWAKE_ENVIRONMENT": "demo",
        }
    )
    endpoints = SimulatedLifecycle(clock=clock, wake_seconds=wake_seconds, delete_seconds=60)
    return Manager(settings, StateStore(table), endpoints, Notifier(None), clock)


def walk(wake_seconds: int = 480) -> list[dict]:
    """Request -> wake -> ready -> idle -> sleep. Returns the rows printed."""
    from sleepwake.common.observability import configure_logging
    from sleepwake.handlers.manager import dispatch
    from sleepwake.manager.events import parse
    from sleepwake_sim.doubles import FakeClock

    configure_logging("WARNING")  # the demo prints its own table
    clock = FakeClock(start=1_763_805_600.0)  # 2025-11-22 10:00 UTC
    manager = build_manager(clock, wake_seconds)
    start = clock.now()
    rows: list[dict] = []

    def step(label: str, event: dict) -> dict:
        answer = dispatch(manager, parse(event))
        if "results" in answer:
            answer = answer["results"][0]
        rows.append({"t": clock.now() - start, "event": label, **answer})
        return answer

    def request(label: str) -> None:
        # An app request: it records activity (what the gateway does on every call) and asks for a wake.
        manager.store.record_activity(ENDPOINT, clock.now())
        step(label, {"action": "wake", "endpoint_name": ENDPOINT})

    step("status", {"action": "status"})
    request("request (asleep)")
    tick = {"source": "aws.events", "detail-type": "Scheduled Event"}
    while True:
        clock.advance(60)
        if step("tick", tick)["state"] == "ready":
            break
    request("request (ready)")
    for _ in range(4):
        clock.advance(60)
        request("request")
        step("tick", tick)  # the schedule ticks every minute, requests or not
    while True:
        clock.advance(60)
        if step("tick", tick)["state"] == "sleeping":
            break
    clock.advance(60)
    step("tick", tick)
    return rows


EXCERPT = ROOT / "demo" / "traces" / "azure_excerpt.csv"


def replay(trace, wake_seconds: int = 480) -> dict:
    """Replay one endpoint's real traffic through the manager's handlers code, minute by minute.

    Each minute: that minute's requests reach the app, which records activity and asks for a wake when the
    endpoint is not ready (what the gateway does), then the schedule ticks the manager. SageMaker's timings come
    from SimulatedLifecycle (Creating for the wake delay; deletion immediate, as in the simulator), so the manager
    meets the same states as `python -m sleepwake_sim.simulate` and must bill the same minutes.
    """
    from sleepwake.domain.lifecycle import utc_day
    from sleepwake.handlers.manager import dispatch
    from sleepwake.manager.events import parse
    from sleepwake_sim.doubles import FakeClock

    clock = FakeClock(start=trace.start)
    manager = build_manager(clock, wake_seconds, table=f"sleepwake-replay-{abs(hash(trace.name)) % 10**8}")
    manager.endpoints.delete_seconds = 0.0
    manager.activity = None  # activity is recorded directly here; moto holds no CloudWatch metrics
    arrivals = dict(trace.requests)
    tick = {"source": "aws.events", "detail-type": "Scheduled Event"}
    timeline, cold_starts = [], 0
    minutes = int((trace.end - trace.start) // 60)
    for minute in range(minutes):
        now = trace.start + minute * 60
        clock.set(now)
        count = arrivals.get(now, 0)
        if count:
            manager.store.record_activity(ENDPOINT, now)
            manager.store.add_requests(ENDPOINT, count)  # the volume, as the gateway and record_activity add it
            answer = dispatch(manager, parse({"action": "wake", "endpoint_name": ENDPOINT}))
            if answer["state"] != "ready":
                cold_starts += count
        answer = dispatch(manager, parse(tick))["results"][0]
        record = manager.store.get(ENDPOINT)
        timeline.append(
            {
                "minute": minute,
                "requests": count,
                "state": answer["state"],
                "billed_seconds": record.billed_seconds_until(now),
                "message": answer["message"],
            }
        )
    final = manager.store.get(ENDPOINT).billed_seconds_until(trace.end)
    clock.set(trace.end)
    # The manager's savings report for the day, from what it recorded (the `report` action, as `make report`).
    report = dispatch(manager, parse({"action": "report", "endpoint_name": ENDPOINT, "day": utc_day(trace.start)}))
    return {
        "report": report,
        "timeline": timeline,
        "billed_seconds": final,
        "cold_starts": cold_starts,
        "requests": trace.total_requests,
        "wakes": manager.store.get(ENDPOINT).wakes,
    }


def compare_policies(traces, wake_seconds: int = 480) -> str:
    """The simulator's table for the excerpt: every policy against the offline optimum."""
    from sleepwake.domain.policy import ALL_PRESETS
    from sleepwake.domain.pricing import hourly_price
    from sleepwake.domain.settings import Settings
    from sleepwake_sim.simulate import RunOptions, render_table, run_endpoints, summarise

    options = RunOptions(
        policies=ALL_PRESETS,
        wake_seconds=float(wake_seconds),
        hourly_price=hourly_price(INSTANCE),
        penalty_seconds=float(wake_seconds),
        min_ready_seconds=float(Settings.min_in_service_seconds),
    )
    return render_table(summarise(run_endpoints(traces, options), options), single=False)


def simulated(trace, wake_seconds: int = 480):
    from sleepwake.domain.policy import PolicyConfig
    from sleepwake.domain.pricing import hourly_price
    from sleepwake.domain.settings import Settings
    from sleepwake.domain.simulation import simulate_endpoint

    cfg = PolicyConfig.named(Settings.policy, wake_seconds=float(wake_seconds), hourly_price=hourly_price(INSTANCE))
    return simulate_endpoint(trace, cfg, min_ready_seconds=float(Settings.min_in_service_seconds))


def plot(timeline: list[dict], title: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sleepwake.domain.pricing import hourly_price

    price = hourly_price(INSTANCE)
    minutes = [row["minute"] / 60.0 for row in timeline]
    levels = {"asleep": 0, "sleeping": 0, "waking": 1, "failed": 0, "ready": 2}
    fig, (ax_req, ax_state, ax_cost) = plt.subplots(
        3, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1, 2]}
    )
    ax_req.bar(minutes, [row["requests"] for row in timeline], width=1 / 60.0, color="#3b6ea5")
    ax_req.set_ylabel("requests / min")
    ax_req.set_title(title)
    ax_state.step(minutes, [levels[row["state"]] for row in timeline], where="post", color="#d9822b")
    ax_state.set_yticks([0, 1, 2], ["asleep", "waking", "ready"])
    ax_state.set_ylim(-0.3, 2.3)
    managed = [row["billed_seconds"] / 3600.0 * price for row in timeline]
    always_on = [(row["minute"] + 1) / 60.0 * price for row in timeline]
    ax_cost.plot(minutes, managed, label="sleep/wake (adaptive)", color="#2e8b57")
    ax_cost.plot(minutes, always_on, label="always on", color="#999999", linestyle="--")
    ax_cost.set_ylabel(f"cost so far, $ ({INSTANCE})")
    ax_cost.set_xlabel("hours into the excerpt")
    ax_cost.legend(loc="upper left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def fmt_time(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def print_rows(rows: list[dict]) -> None:
    print(f"{'time':>5}  {'event':<17} {'state':<9} {'sagemaker':<10} {'billed $':>8}  decision")
    previous = None
    for row in rows:
        key = (row["event"], row["state"], row["sagemaker_status"], row["message"].split(";")[0])
        if key == previous and row["event"] == "tick":
            continue  # the manager ticks every minute; print only what changed
        previous = key
        cost = row["billed_hours"] * (row["hourly_price_usd"] or 0)
        print(
            f"{fmt_time(row['t']):>5}  {row['event']:<17} {row['state']:<9} {str(row['sagemaker_status']):<10} "
            f"{cost:>8.4f}  {row['message']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wake-minutes", type=float, default=8.0, help="simulated wake duration (default 8)")
    parser.add_argument("--out", type=Path, default=ROOT / "demo-out", help="where the timeline PNG goes")
    parser.add_argument("--endpoint", type=int, default=0, help="which row of the excerpt to replay (default 0)")
    args = parser.parse_args(argv)
    if not 0 < args.wake_minutes <= 60:
        parser.error("--wake-minutes must be between 0 and 60")
    from sleepwake_sim.traces import read_trace

    traces = read_trace(EXCERPT)
    if not 0 <= args.endpoint < len(traces):
        parser.error(f"--endpoint must be between 0 and {len(traces) - 1}")
    wake = int(args.wake_minutes * 60)
    with local_aws() as url:
        print(
            f"local AWS emulator at {url}; endpoint {ENDPOINT} ({INSTANCE}), default (adaptive) idle policy, "
            f"wake {args.wake_minutes:g} min\n"
        )
        print("1. One endpoint through request -> wake -> ready -> idle -> sleep")
        rows = walk(wake)
        print_rows(rows)
        last = rows[-1]
        hours, price = last["billed_hours"], last["hourly_price_usd"]
        print(
            f"\nbilled {hours * 60:.0f} min = ${hours * price:.2f}; the same endpoint left on for a day costs "
            f"${24 * price:.2f}. Model and endpoint configuration are kept; the next request wakes it.\n"
        )

        trace = traces[args.endpoint]
        print(
            f"2. Real traffic (Azure Functions 2019, CC-BY 4.0, see demo/traces/README.md): endpoint "
            f"{trace.name[:10]}, {trace.total_requests} requests in {(trace.end - trace.start) / 3600:g} h, "
            "replayed through the manager minute by minute"
        )
        result = replay(trace, wake)
        sim = simulated(trace, wake)
        print(
            f"   manager:   billed {result['billed_seconds'] / 60:.0f} min "
            f"(${result['billed_seconds'] / 3600 * price:.2f}),"
            f" {result['cold_starts']} requests waited, {result['wakes']} wakes"
        )
        print(
            f"   simulator: billed {sim.billed_seconds / 60:.0f} min, {sim.cold_starts} requests waited, "
            f"{sim.wakes} wakes  (the same policy code: these must match)"
        )
        png = plot(
            result["timeline"],
            f"endpoint {trace.name[:10]}: requests, state and cost (adaptive policy)",
            args.out / "timeline.png",
        )
        print(f"   timeline: {png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}")
        print("   the manager's savings report for it (make report ENV=...; the `report` action):")
        print("   " + result["report"]["text"].replace("\n", "\n   ") + "\n")
    print(
        "3. Every policy on the whole excerpt (python -m sleepwake_sim.simulate), cost relative to the offline optimum"
    )
    print(compare_policies(traces, wake))
    print("\nemulator stopped; nothing left behind")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
