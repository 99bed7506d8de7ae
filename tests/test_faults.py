"""Transient AWS faults answer 503 with an honest Retry-After, never a 500: each window is forced by wrapping the
boto3 client the code asks `sleepwake.aws.clients.client` for, so the fault hits exactly one operation."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from conftest import ENDPOINT, WAKE_SECONDS
from gateway_support import queue_depth, stack, state_items  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.manager.service import ContentionError


class FaultyClient:
    """A boto3 client whose listed operations raise instead of calling AWS (others pass through)."""

    def __init__(self, real, faults: dict[str, str | type]) -> None:
        self._real = real
        self._faults = faults
        self.refused: list[str] = []

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if name not in self._faults:
            return attr

        def refuse(*args, **kwargs):
            self.refused.append(name)
            fault = self._faults[name]
            operation = "".join(part.title() for part in name.split("_"))
            if isinstance(fault, str):
                raise ClientError({"Error": {"Code": fault, "Message": "Rate exceeded"}}, operation)
            raise fault({"Error": {"Code": fault.__name__, "Message": "The conditional request failed"}}, operation)

        return refuse


@pytest.fixture
def faults(monkeypatch):
    """faults(service, operation=code, ...) wraps that service's client; returns the wrapper (its `refused`)."""
    original = aws.client
    wrapped: dict[str, FaultyClient] = {}

    def client(service):
        real = original(service)
        return wrapped[service] if service in wrapped else real

    def install(service: str, **operation_codes) -> FaultyClient:
        wrapped[service] = FaultyClient(original(service), operation_codes)
        return wrapped[service]

    def remove(service: str) -> None:
        wrapped.pop(service, None)

    monkeypatch.setattr(aws, "client", client)
    install.remove = remove
    return install


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        ("ProvisionedThroughputExceededException", 2),
        ("ThrottlingException", 2),
        ("RequestLimitExceeded", 2),
        ("InternalServerError", 5),
        ("ServiceUnavailable", 5),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/lease", None),
        ("POST", "/lease", '{"minutes": 5}'),
        ("DELETE", "/lease", None),
        ("GET", "/status", None),
        ("POST", "/invoke", '{"inputs": "hello"}'),
        ("GET", "/requests/" + "a" * 32, None),
    ],
)
def test_a_throttled_or_unavailable_dynamodb_read_is_503_with_retry_after(
    stack, faults, code, retry, method, path, body
):
    before = stack.snapshot()
    faults("dynamodb", get_item=code)
    answer = stack.call(method, path, body)
    assert answer.status == 503, answer.body
    assert answer.headers["retry-after"] == str(retry) and answer.json()["retry_after_seconds"] == retry
    assert f"({code})" in answer.json()["error"] and "GetItem" in answer.json()["error"]
    faults.remove("dynamodb")
    assert without_in_flight_mark(stack.snapshot()) == without_in_flight_mark(before)


def without_in_flight_mark(snapshot: tuple) -> tuple:
    """POST /invoke marks its request in flight (`busy_until`) before calling SageMaker, as it must (the manager
    never deletes under a running request); the mark expires by itself and is the one write such a request makes."""
    items, *rest = snapshot
    kept = []
    for text in items:
        item = json.loads(text)
        item.pop("busy_until", None)
        if set(item) - {"pk", "endpoint_name"}:
            kept.append(json.dumps(item, sort_keys=True))
    return (kept, *rest)


def test_a_throttled_read_before_queueing_is_503_and_queues_nothing(stack, faults):
    faults("dynamodb", get_item="ThrottlingException")
    answer = stack.call(
        "POST",
        "/invoke",
        '{"inputs": "hello"}',
        headers={"content-type": "application/json", "prefer": "respond-async"},
    )
    assert answer.status == 503 and answer.headers["retry-after"] == "2"
    assert queue_depth(stack.resources.queue_url) == 0


def test_a_throttled_create_during_a_wake_is_503_with_a_short_retry_not_the_wake_estimate(stack, faults):
    sagemaker = faults("sagemaker", create_endpoint="ThrottlingException")
    answer = stack.call("POST", "/invoke", '{"inputs": "hello"}')
    assert sagemaker.refused == ["create_endpoint"]
    assert answer.status == 503
    # Nothing is being created and the manager released its create claim: the answer says to come back after the
    # throttle's short wait, not the 480 s of a wake (nor the claim's 120 s).
    assert answer.headers["retry-after"] == "2" != str(WAKE_SECONDS)
    assert stack.platform.store.get(ENDPOINT).create_claimed_at is None
    body = answer.json()
    assert body["state"] == "asleep" and "CreateEndpoint was throttled" in body["error"]
    assert "nothing is being created" in body["error"]
    assert stack.platform.sagemaker_endpoints() == []
    # The wake is not lost: once SageMaker accepts calls again, the next tick creates it.
    faults.remove("sagemaker")
    stack.clock.advance(60)
    assert stack.manager.tick()["results"][0]["actions"] == ["create"]
    assert stack.platform.sagemaker_endpoints() == [ENDPOINT]


def test_a_throttled_create_without_a_held_claim_asks_for_a_short_retry(stack, faults, monkeypatch):
    """Should the manager release its claim when CreateEndpoint is refused, the next wake retries at once: the
    Retry-After follows the claim actually held, not a fixed guess."""
    from dataclasses import replace

    faults("sagemaker", create_endpoint="ThrottlingException")
    store = stack.platform.store
    original = store.get
    monkeypatch.setattr(store, "get", lambda name: replace(original(name), create_claimed_at=None))
    answer = stack.call("POST", "/invoke", '{"inputs": "hello"}')
    assert answer.status == 503 and answer.headers["retry-after"] == "2"


def test_a_lease_whose_wake_is_throttled_is_reported_as_written(stack, faults):
    faults("sagemaker", create_endpoint="ThrottlingException")
    answer = stack.call("POST", "/lease", json.dumps({"minutes": 30}))
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["lease_written"] is True and body["wake_deferred"] is True
    assert body["active"] is True and body["seconds_left"] == 1800
    assert body["retry_after_seconds"] == 2 and "retried within" in body["message"]
    (item,) = state_items("endpoint#")
    assert item["lease_until"] == stack.clock.now() + 1800
    faults.remove("sagemaker")
    stack.clock.advance(60)
    assert stack.manager.tick()["results"][0]["actions"] == ["create"]  # the lease wants it: the tick creates it


def test_a_lease_whose_wake_cannot_even_read_the_endpoint_is_reported_as_written(stack, faults):
    faults("sagemaker", describe_endpoint="ThrottlingException")
    answer = stack.call("POST", "/lease", json.dumps({"minutes": 30}))
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["lease_written"] is True and body["wake_deferred"] is True and body["state"] is None
    assert "next tick" in body["message"]
    faults.remove("sagemaker")
    assert stack.manager.tick()["results"][0]["actions"] == ["create"]


def test_lease_contention_is_503_with_retry_after_never_500(stack, faults):
    stack.gateway.leases.sleep = lambda seconds: None
    conflict = aws.client("dynamodb").exceptions.ConditionalCheckFailedException
    before = stack.snapshot()
    faults("dynamodb", update_item=conflict)  # every conditional lease write loses its race
    answer = stack.call("POST", "/lease", json.dumps({"minutes": 30}))
    assert answer.status == 503 and answer.headers["retry-after"] == "1"
    assert "the leases changed" in answer.json()["error"]
    faults.remove("dynamodb")
    assert stack.snapshot() == before
    assert stack.call("POST", "/lease", json.dumps({"minutes": 30})).status == 200
    faults("dynamodb", update_item=conflict)
    released = stack.call("DELETE", "/lease")
    assert released.status == 503 and released.headers["retry-after"] == "1"


def test_manager_contention_on_status_is_503_with_retry_after(stack, monkeypatch):
    def contended(self, name):
        raise ContentionError(f"{name}: the state record changed 6 times while deciding")

    monkeypatch.setattr("sleepwake.manager.service.Manager.status", contended)
    answer = stack.call("GET", "/status")
    assert answer.status == 503 and int(answer.headers["retry-after"]) > 0
    assert "changed 6 times" in answer.json()["error"]


@pytest.mark.parametrize("code", sorted(aws.THROTTLING_CODES | aws.UNAVAILABLE_CODES))
def test_every_transient_code_is_classified_with_a_retry_after(code):
    fault = aws.transient(ClientError({"Error": {"Code": code, "Message": "m"}}, "GetItem"))
    assert fault is not None and fault.retry_after_seconds > 0 and "GetItem" in fault.describe()


@pytest.mark.parametrize(
    "code",
    [
        "ValidationException",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ConditionalCheckFailedException",
        "ResourceLimitExceeded",
    ],
)
def test_errors_a_retry_would_not_fix_are_not_transient(code):
    assert aws.transient(ClientError({"Error": {"Code": code, "Message": "m"}}, "GetItem")) is None
    assert aws.transient(RuntimeError("boom")) is None


def test_a_lost_connection_is_transient():
    assert aws.transient(EndpointConnectionError(endpoint_url="https://dynamodb")).retry_after_seconds == 5
