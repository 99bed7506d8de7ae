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
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda_src"))

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
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION",
                                            "AWS_XRAY_SDK_ENABLED", "AWS_PROFILE")}
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="demo",
                      AWS_SECRET_ACCESS_KEY="demo", AWS_SESSION_TOKEN="demo", AWS_DEFAULT_REGION="us-east-1",
                      AWS_REGION="us-east-1", AWS_XRAY_SDK_ENABLED="false")
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
        from sleepwake import aws

        aws.reset_clients()


def build_manager(clock, wake_seconds: int):
    from sleepwake.local import SimulatedLifecycle, create_model_and_config, create_state_table
    from sleepwake.manager import Manager
    from sleepwake.notify import Notifier
    from sleepwake.settings import load_settings
    from sleepwake.store import StateStore

    create_state_table(TABLE)
    create_model_and_config("demo-llm-model", CONFIG, instance_type=INSTANCE)
    settings = load_settings({
        "SLEEPWAKE_TABLE_NAME": TABLE,
        "SLEEPWAKE_ENDPOINTS": json.dumps({ENDPOINT: {"endpoint_config_name": CONFIG, "instance_type": INSTANCE}}),
        "SLEEPWAKE_IDLE_TIMEOUT_SECONDS": "900",
        "SLEEPWAKE_MIN_IN_SERVICE_SECONDS": "300",
        "SLEEPWAKE_WAKE_ESTIMATE_SECONDS": str(wake_seconds),
        "SLEEPWAKE_ENVIRONMENT": "demo",
    })
    endpoints = SimulatedLifecycle(clock=clock, wake_seconds=wake_seconds, delete_seconds=60)
    return Manager(settings, StateStore(TABLE), endpoints, Notifier(None), clock)


def walk(wake_seconds: int = 480) -> list[dict]:
    """Request -> wake -> ready -> idle -> sleep. Returns the rows printed."""
    from sleepwake.clock import FakeClock
    from sleepwake.events import parse
    from sleepwake.handlers.manager import dispatch
    from sleepwake.observability import configure_logging

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
    while True:
        clock.advance(60)
        if step("tick", tick)["state"] == "sleeping":
            break
    clock.advance(60)
    step("tick", tick)
    return rows


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
        print(f"{fmt_time(row['t']):>5}  {row['event']:<17} {row['state']:<9} {str(row['sagemaker_status']):<10} "
              f"{cost:>8.4f}  {row['message']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wake-minutes", type=float, default=8.0, help="simulated wake duration (default 8)")
    args = parser.parse_args(argv)
    if not 0 < args.wake_minutes <= 60:
        parser.error("--wake-minutes must be between 0 and 60")
    with local_aws() as url:
        print(f"local AWS emulator at {url}; endpoint {ENDPOINT} ({INSTANCE}), idle timeout 15 min, "
              f"wake {args.wake_minutes:g} min\n")
        rows = walk(int(args.wake_minutes * 60))
        print_rows(rows)
        last = rows[-1]
        hours = last["billed_hours"]
        price = last["hourly_price_usd"]
        print(f"\nbilled {hours * 60:.0f} min = ${hours * price:.2f}; the same endpoint left on for a day costs "
              f"${24 * price:.2f}. Model and endpoint configuration are kept; the next request wakes it.")
    print("emulator stopped; nothing left behind")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
