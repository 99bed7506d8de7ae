"""End to end on a moto server at 127.0.0.1: the gateway, authorizer, replay, replay-switch and manager handlers
through sleeping -> request -> waking -> InService -> replay -> idle -> sleep.

What AWS does between the handlers is played here, each step as its documentation describes: API Gateway
(routes, identity source, authorizer and its cache: `HttpApiEmulator`), EventBridge (state-change and scheduled
events), and Lambda's SQS poller (only while the event source mapping is Enabled; deletes what succeeded).
SageMaker's timings come from `SimulatedLifecycle` on a fake clock.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import CONFIG, ENDPOINT, TABLE, WAKE_SECONDS, load_event, manager_env
from gateway_support import (
    TOKENS_TABLE,
    HttpApiEmulator,
    create_gateway_resources,
    create_replay_mapping,
    gateway_env,
    poll_once,
    queue_depth,
    serve,
    set_model_results,
)
from sleepwake.aws import clients as aws
from sleepwake.aws.notify import Notifier
from sleepwake.aws.store import StateStore
from sleepwake.domain.settings import load_settings
from sleepwake.gateway.replay import ReplayControl, Replayer, ReplaySwitch
from sleepwake.gateway.service import Gateway
from sleepwake.gateway.settings import load_gateway_settings
from sleepwake.gateway.tokens import TokenAuthorizer, TokenStore
from sleepwake.handlers import authorizer as authorizer_entry
from sleepwake.handlers import gateway as gateway_entry
from sleepwake.handlers import manager as manager_entry
from sleepwake.handlers import replay as replay_entry
from sleepwake.handlers import replay_control as control_entry
from sleepwake.manager.service import Manager
from sleepwake_sim.doubles import FakeClock, SimulatedRuntime
from sleepwake_sim.emulator import SimulatedLifecycle, create_model_and_config, create_state_table

pytestmark = [pytest.mark.moto, pytest.mark.slow]  # a moto server on 127.0.0.1, every function
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tools"))
import demo  # noqa: E402
import tokens as tokens_tool  # noqa: E402


class World:
    """Everything on one fake clock: the handlers' services are injected exactly as the Lambda would build them,
    except for the clock and SageMaker's timings."""

    def __init__(self, base_url: str, monkeypatch) -> None:
        self.base_url = base_url
        self.clock = FakeClock(start=1_763_805_600.0)
        env = manager_env()
        create_state_table(TABLE)
        create_model_and_config("llm-model", CONFIG)
        self.resources = create_gateway_resources()
        self.mapping_uuid = create_replay_mapping(self.resources)
        env.update(gateway_env(self.resources), SLEEPWAKE_REPLAY_MAPPING_UUID=self.mapping_uuid)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        self.settings = load_settings(env)
        self.lifecycle = SimulatedLifecycle(clock=self.clock, wake_seconds=WAKE_SECONDS, delete_seconds=60)
        self.manager = Manager(self.settings, StateStore(TABLE), self.lifecycle, Notifier(None), self.clock)
        gateway_settings = load_gateway_settings(env, self.settings.endpoints)
        runtime = SimulatedRuntime(endpoints=self.lifecycle)
        common = dict(clock=self.clock, endpoints=self.lifecycle, runtime=runtime, manager=self.manager)
        gateway = Gateway.build(self.settings, gateway_settings, **common)
        replayer = Replayer.build(self.settings, gateway_settings, **common)
        control = ReplayControl(ENDPOINT, ReplaySwitch(self.mapping_uuid), self.lifecycle)
        authorizer = TokenAuthorizer(TokenStore(TOKENS_TABLE), self.clock)
        monkeypatch.setattr(manager_entry, "_manager", lambda: self.manager)
        monkeypatch.setattr(gateway_entry, "_gateway", lambda: gateway)
        monkeypatch.setattr(replay_entry, "_replayer", lambda: replayer)
        monkeypatch.setattr(control_entry, "_control", lambda: control)
        monkeypatch.setattr(authorizer_entry, "_authorizer", lambda: authorizer)
        self.api = HttpApiEmulator(gateway_entry.handler, authorizer_entry.handler, self.clock.now, ttl_seconds=300)

    # ---- what EventBridge and Lambda's SQS poller do --------------------------------------------------------
    def sagemaker_event(self, status: str) -> dict:
        """EventBridge delivers the state change to both rules' targets: the manager and the replay switch."""
        event = load_event("state_change_inservice.json")
        event["detail"]["EndpointStatus"] = status
        manager_answer = manager_entry.handler(event, None)
        control_answer = control_entry.handler(event, None)
        assert control_answer["ok"] is True
        return {"manager": manager_answer, "replay": control_answer}

    def tick(self) -> dict:
        answer = manager_entry.handler(load_event("scheduled.json"), None)
        control_entry.handler(load_event("scheduled.json"), None)
        return answer["results"][0]

    def mapping_state(self) -> str:
        return aws.client("lambda").get_event_source_mapping(UUID=self.mapping_uuid)["State"]

    def lambda_polls(self) -> tuple[int, list[str]]:
        """Lambda reads the queue only while the mapping is Enabled."""
        if self.mapping_state() != "Enabled":
            return 0, []
        return poll_once(self.resources, replay_entry.handler)


@pytest.fixture
def world(monkeypatch):
    with demo.local_aws() as url:
        yield World(url, monkeypatch)


def test_sleeping_request_waking_in_service_replay_idle_sleep(world, capsys):
    api = world.api
    assert tokens_tool.main(["--table", TOKENS_TABLE, "create", "e2e-app"], now=world.clock.now()) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {**auth, "Content-Type": "application/json"}

    # sleeping
    status = api.request("GET", "/status", headers=auth)
    assert (status.status, status.json()["state"]) == (200, "asleep")
    assert api.request("GET", "/status").status == 401
    assert api.request("GET", "/status", headers={"Authorization": "Bearer swk_" + "0" * 43}).status == 403

    # request -> waking: a 503 that starts exactly one wake, and a queued request
    sync = api.request("POST", "/invoke", b'{"inputs": "now please"}', headers=as_json)
    assert sync.status == 503 and sync.headers["retry-after"] == str(WAKE_SECONDS)
    assert sync.json()["state"] == "waking" and world.lifecycle.creates == 1
    queued = api.request("POST", "/invoke", b'{"inputs": "whenever"}', headers={**as_json, "Prefer": "respond-async"})
    assert queued.status == 202
    request_id = queued.json()["request_id"]
    assert world.sagemaker_event("CREATING")["replay"]["replay"] == "disabled"
    assert world.lambda_polls() == (0, [])  # the mapping is off: the message waits in SQS
    assert queue_depth(world.resources.queue_url) == 1
    assert api.request("GET", f"/requests/{request_id}", headers=auth).json()["status"] == "queued"
    world.clock.advance(WAKE_SECONDS - 60)
    assert world.tick()["state"] == "waking"
    assert world.lifecycle.creates == 1

    # InService -> the state-change event switches the replay on -> Lambda replays the queued request
    world.clock.advance(60)
    changed = world.sagemaker_event("IN_SERVICE")
    assert changed["manager"]["state"] == "ready"
    assert changed["replay"]["replay"] == "enabled" and world.mapping_state() == "Enabled"
    set_model_results(('{"generated_text": "replayed"}', "application/json"), base_url=world.base_url)
    assert world.lambda_polls() == (1, [])
    assert queue_depth(world.resources.queue_url) == 0
    done = api.request("GET", f"/requests/{request_id}", headers=auth).json()
    assert done["status"] == "done" and json.loads(done["result"]) == {"generated_text": "replayed"}
    with urllib.request.urlopen(done["result_url"], timeout=10) as stored:  # the pre-signed URL works
        assert json.loads(stored.read()) == {"generated_text": "replayed"}

    # ready: synchronous calls go straight through (here with the client, over real HTTP)
    from sleepwake_client.client import SleepwakeClient

    set_model_results(('{"generated_text": "direct answer"}', "application/json"), base_url=world.base_url)
    with serve(api) as url:
        answer = SleepwakeClient(api_url=url, token=token, clock=world.clock.now).invoke({"inputs": "now"})
    assert answer.json() == {"generated_text": "direct answer"} and answer.attempts == 1

    # idle -> sleep: the manager's tick deletes it after the idle timeout; the switch turns the replay off
    last_use = world.clock.now()
    while True:
        world.clock.advance(60)
        if world.tick()["state"] == "sleeping":
            break
        assert world.clock.now() - last_use <= 900
    assert 900 <= world.clock.now() - last_use < 960
    assert world.sagemaker_event("DELETING")["replay"]["replay"] == "disabled"
    assert world.mapping_state() == "Disabled"
    world.clock.advance(60)
    assert world.tick()["state"] == "asleep"
    final = api.request("GET", "/status", headers=auth).json()
    assert final["state"] == "asleep" and final["sagemaker_status"] is None
    assert world.lifecycle.creates == 1 and world.lifecycle.deletes == 1

    logs = capsys.readouterr().out
    assert token not in logs and token[4:] not in logs
    assert '"message": "replayed"' in logs and '"message": "authorization"' in logs
