"""Test set-up: dummy credentials and a silent X-Ray before anything imports boto3 or the package."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_XRAY_SDK_ENABLED="false",
)
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME"):
    os.environ.pop(variable, None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from sleepwake.aws import clients as aws  # noqa: E402
from sleepwake.aws.notify import Notifier  # noqa: E402
from sleepwake.aws.store import StateStore  # noqa: E402
from sleepwake.domain.settings import load_settings  # noqa: E402
from sleepwake.manager.service import Manager  # noqa: E402
from sleepwake_sim.doubles import FakeClock  # noqa: E402
from sleepwake_sim.emulator import SimulatedLifecycle, create_model_and_config, create_state_table  # noqa: E402

EVENTS = ROOT / "tests" / "events"
TABLE = "sleepwake-test-state"
ENDPOINT = "llm-endpoint"
CONFIG = "llm-endpoint-config-0001"
WAKE_SECONDS = 480


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


class LambdaContext:
    function_name = "sleepwake-test-manager"
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sleepwake-test-manager"
    memory_limit_in_mb = 256

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def atomic_dynamodb(monkeypatch):
    """DynamoDB applies a conditional write atomically and never shows a read half of a write; moto's in-memory
    backend does not lock and updates items in place, so give it the per-item atomicity the real service
    guarantees before racing threads against it: writes under one lock, reads a copy taken under it (a read that
    saw the new `version` but the old fields would let two racing commits both win)."""
    import copy
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original_update, original_get = DynamoDBBackend.update_item, DynamoDBBackend.get_item

    def update_item(self, *args, **kwargs):
        with lock:
            return original_update(self, *args, **kwargs)

    def get_item(self, *args, **kwargs):
        with lock:
            return copy.deepcopy(original_get(self, *args, **kwargs))

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)
    monkeypatch.setattr(DynamoDBBackend, "get_item", get_item)


@pytest.fixture
def aws_mock():
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


def manager_env(**overrides: str) -> dict[str, str]:
    env = {
        "SLEEPWAKE_TABLE_NAME": TABLE,
        "SLEEPWAKE_ENDPOINTS": json.dumps(
            {
                ENDPOINT: {
                    "endpoint_config_name": CONFIG,
                    "instance_type": "ml.g4dn.xlarge",
                    "instance_count": 1,
                    "tags": {"team": "ml"},
                }
            }
        ),
        "SLEEPWAKE_IDLE_TIMEOUT_SECONDS": "900",
        "SLEEPWAKE_MIN_IN_SERVICE_SECONDS": "300",
        # Most tests exercise the manager's mechanics with the fixed idle timeout; tests/test_manager_policy.py
        # runs the default adaptive policy.
        "SLEEPWAKE_POLICY": "fixed",
        "SLEEPWAKE_WAKE_ESTIMATE_SECONDS": str(WAKE_SECONDS),
        "SLEEPWAKE_FAILURE_BACKOFF_SECONDS": "300",
        "SLEEPWAKE_MAX_FAILURE_RETRIES": "2",
        "SLEEPWAKE_ENVIRONMENT": "test",
    }
    env.update(overrides)
    return env


@pytest.fixture
def platform(aws_mock, monkeypatch):
    """The manager's table, model and endpoint configuration in moto, and a manager on a fake clock."""
    env = manager_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    create_state_table(TABLE)
    create_model_and_config("llm-model", CONFIG)
    return Platform(env)


class Platform:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.clock = FakeClock()
        self.settings = load_settings(env)
        self.endpoints = SimulatedLifecycle(clock=self.clock, wake_seconds=WAKE_SECONDS, delete_seconds=60)
        self.store = StateStore(TABLE)
        self.notifier = RecordingNotifier(None)
        self.manager = Manager(self.settings, self.store, self.endpoints, self.notifier, self.clock)

    def with_settings(self, **env_overrides: str) -> "Platform":
        self.settings = load_settings({**self.env, **env_overrides})
        self.manager = Manager(self.settings, self.store, self.endpoints, self.notifier, self.clock)
        return self

    def sagemaker_endpoints(self) -> list[str]:
        return [e["EndpointName"] for e in aws.client("sagemaker").list_endpoints()["Endpoints"]]

    def wake_until_ready(self) -> dict:
        self.manager.wake(ENDPOINT)
        self.clock.advance(WAKE_SECONDS)
        answer = self.manager.tick()["results"][0]
        assert answer["state"] == "ready", answer
        return answer


class RecordingNotifier(Notifier):
    def __init__(self, topic_arn: str | None) -> None:
        super().__init__(topic_arn)
        self.sent: list[dict] = []

    def publish(self, body) -> None:
        self.sent.append(dict(body))
        super().publish(body)

    def events(self) -> list[str]:
        return [m["event"] for m in self.sent]


# ---- markers: unit / moto / terraform / slow / e2e (pyproject.toml lists them; `make test-unit` runs `unit`) ----
@functools.cache
def _module_uses_moto(source: str) -> bool:
    text = Path(source).read_text() if source.endswith(".py") else ""
    return "mock_aws" in text or "ThreadedMotoServer" in text


def _uses_moto(item) -> bool:
    return "aws_mock" in getattr(item, "fixturenames", ()) or _module_uses_moto(
        getattr(item.module, "__file__", "") or ""
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "terraform" in item.path.parts:
            item.add_marker(pytest.mark.terraform)
        if _uses_moto(item):
            item.add_marker(pytest.mark.moto)
        if not any(item.get_closest_marker(m) for m in ("moto", "terraform", "slow", "e2e")):
            item.add_marker(pytest.mark.unit)
