"""sleepwake_client.client over real HTTP (a local server running the gateway behind the API Gateway emulator) and
directly against SageMaker (moto + the simulated lifecycle)."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest

from conftest import ENDPOINT, TABLE, WAKE_SECONDS
from gateway_support import serve, set_model_results, stack  # noqa: F401
from sleepwake_client.client import (
    EndpointFailedError,
    EndpointWakingError,
    GatewayError,
    GatewayUnreachableError,
    PayloadTooLargeError,
    SleepwakeClient,
    SleepwakeError,
)


@pytest.fixture
def api(stack):
    token = stack.tokens.create("client-test", now=stack.clock.now())
    with serve(stack.emulator()) as url:
        yield SimpleNamespace(url=url, token=token, stack=stack)


def make_client(api, **kwargs) -> tuple[SleepwakeClient, list[float]]:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        api.stack.clock.advance(seconds)

    kwargs.setdefault("token", api.token)
    return SleepwakeClient(api_url=api.url, sleep=sleep, clock=api.stack.clock.now, **kwargs), slept


def test_a_ready_endpoint_answers_at_once(api):
    api.stack.platform.wake_until_ready()
    set_model_results(('{"generated_text": "hi"}', "application/json"))
    client, slept = make_client(api)
    answer = client.invoke({"inputs": "hello"})
    assert answer.json() == {"generated_text": "hi"} and answer.content_type == "application/json"
    assert (answer.attempts, slept) == (1, [])


def test_waits_for_the_wake_with_backoff_honouring_retry_after(api):
    set_model_results(('{"generated_text": "worth the wait"}', "application/json"))
    client, slept = make_client(api, max_poll_interval_seconds=60)
    answer = client.invoke({"inputs": "hello"}, deadline_seconds=900)
    assert answer.json() == {"generated_text": "worth the wait"}
    assert api.stack.platform.endpoints.creates == 1
    # Retry-After is 480 s: every wait is capped at the poll interval, and the total covers the wake.
    assert slept[0] == 60 and all(s <= 60 for s in slept)
    assert WAKE_SECONDS <= sum(slept) < WAKE_SECONDS + 60
    assert answer.waited_seconds == sum(slept) and answer.attempts == len(slept) + 1


def test_retry_after_is_honoured_strictly_without_a_poll_cap(api):
    client, slept = make_client(api, max_poll_interval_seconds=None)
    client.invoke({"inputs": "hello"}, deadline_seconds=900)
    assert slept == [WAKE_SECONDS]


def test_small_retry_afters_still_back_off_exponentially(api):
    api.stack.platform.wake_until_ready()
    client, slept = make_client(api, max_poll_interval_seconds=30)
    answers = iter([("ready", 1), ("ready", 1), ("ready", 1)])
    real = client._via_gateway
    client._via_gateway = lambda *a: next(answers, None) or real(*a)  # three 429s, then through
    client.invoke({"inputs": "hello"}, deadline_seconds=60)
    assert slept == [1.0, 2.0, 4.0]


def test_the_deadline_ends_the_wait_with_a_clear_waking_error(api):
    client, slept = make_client(api)
    with pytest.raises(EndpointWakingError) as raised:
        client.invoke({"inputs": "hello"}, deadline_seconds=100)
    error = raised.value
    assert error.state == "waking" and error.retry_after_seconds == WAKE_SECONDS - 100
    assert error.waited_seconds == 100 and sum(slept) == 100
    assert f"endpoint {ENDPOINT} is waking" in str(error) and "Prefer: respond-async" in str(error)
    with pytest.raises(EndpointWakingError):
        client.invoke({"inputs": "hello"}, deadline_seconds=0)  # no wait at all
    assert api.stack.platform.endpoints.creates == 1


def test_an_endpoint_that_gave_up_is_a_failed_error_not_a_wait(api, monkeypatch):
    monkeypatch.setattr(
        "sleepwake.manager.service.Manager.wake",
        lambda self, name, **kw: {"ok": False, "state": "failed", "message": "gave up after 3 failed attempts"},
    )
    client, slept = make_client(api)
    with pytest.raises(EndpointFailedError, match="failed and is not being retried"):
        client.invoke({"inputs": "hello"}, deadline_seconds=600)
    assert slept == []


def test_submit_and_read_the_result_later(api):
    client, _ = make_client(api)
    queued = client.submit({"inputs": "later"})
    assert queued["status"] == "queued" and queued["state"] == "waking"
    assert client.request(queued["request_id"])["status"] == "queued"
    api.stack.clock.advance(WAKE_SECONDS)
    set_model_results(('{"generated_text": "done"}', "application/json"))
    api.stack.poll()
    done = client.request(queued["request_id"])
    assert done["status"] == "done" and json.loads(done["result"]) == {"generated_text": "done"}
    assert client.status()["state"] == "ready"


def test_too_large_bodies_are_refused_before_sending(api):
    client, _ = make_client(api, max_body_bytes=10)
    with pytest.raises(PayloadTooLargeError, match="at most 10 are accepted"):
        client.invoke({"inputs": "far too long"})
    assert api.stack.platform.endpoints.creates == 0  # nothing reached the gateway


def test_the_gateways_413_is_a_payload_error(api):
    api.stack.rebuild(SLEEPWAKE_MAX_BODY_BYTES="16")
    client, _ = make_client(api)
    with pytest.raises(PayloadTooLargeError) as raised:
        client.invoke({"inputs": "a bit too long"})
    assert raised.value.status == 413


def test_bad_tokens_are_gateway_errors(api):
    client, _ = make_client(api, token="swk_" + "x" * 43)
    with pytest.raises(GatewayError) as raised:
        client.invoke({"inputs": "hello"})
    assert raised.value.status == 403


def test_redirected_large_answers_are_followed_without_the_token(api, monkeypatch):
    monkeypatch.setattr("sleepwake.gateway.service.MAX_INLINE_RESPONSE_BYTES", 5)
    api.stack.platform.wake_until_ready()
    set_model_results(('{"generated_text": "big"}', "application/json"))
    fetched = []
    client, _ = make_client(api)

    def fake_fetch(url):
        fetched.append(url)
        from sleepwake_client.client import _Answer

        return _Answer(200, {"content-type": "application/json"}, b'{"generated_text": "big"}')

    client._fetch = fake_fetch
    assert client.invoke({"inputs": "hello"}).json() == {"generated_text": "big"}
    assert len(fetched) == 1 and "results/" in fetched[0]


def test_iam_auth_signs_with_sigv4_for_execute_api(monkeypatch):
    client = SleepwakeClient(api_url="https://abc123defg.execute-api.eu-west-1.amazonaws.com", auth="iam")
    assert client.region == "eu-west-1"
    headers = client._sigv4(
        "POST",
        "https://abc123defg.execute-api.eu-west-1.amazonaws.com/invoke",
        b"{}",
        {"Content-Type": "application/json"},
    )
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    assert "X-Amz-Date" in headers and headers["X-Amz-Security-Token"] == "testing"


def test_an_unreachable_gateway_is_the_clients_own_error_naming_the_url():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = SleepwakeClient(api_url=url, token="t", sleep=lambda s: None)
    with pytest.raises(GatewayUnreachableError, match=f"could not reach the gateway at {url}/invoke") as caught:
        client.invoke({"inputs": "hello"}, deadline_seconds=5)
    assert isinstance(caught.value, SleepwakeError) and caught.value.reason


def test_client_arguments_are_checked():
    with pytest.raises(ValueError, match="give api_url"):
        SleepwakeClient()
    with pytest.raises(ValueError, match="auth must be"):
        SleepwakeClient(api_url="https://x", auth="basic")


# ---- direct to SageMaker ----------------------------------------------------------------------------------------
def direct_client(stack, **kwargs):
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        stack.clock.advance(seconds)

    runtime = SimpleNamespace(invoke_endpoint=stack.runtime._call)
    client = SleepwakeClient(
        endpoint_name=ENDPOINT,
        runtime_client=runtime,
        wake=stack.manager.wake,
        sleep=sleep,
        clock=stack.clock.now,
        **kwargs,
    )
    return client, slept


def test_direct_invocation_wakes_through_the_manager_and_records_activity(stack):
    set_model_results(('{"generated_text": "direct"}', "application/json"))
    client, slept = direct_client(stack, state_table=TABLE, max_poll_interval_seconds=120)
    answer = client.invoke({"inputs": "hello"}, deadline_seconds=900)
    assert answer.json() == {"generated_text": "direct"}
    assert stack.platform.endpoints.creates == 1 and slept[0] == 120
    assert stack.platform.store.get(ENDPOINT).last_activity is not None


def test_direct_invocation_deadline(stack):
    client, _ = direct_client(stack)
    with pytest.raises(EndpointWakingError) as raised:
        client.invoke({"inputs": "hello"}, deadline_seconds=30)
    assert raised.value.state == "waking" and raised.value.endpoint == ENDPOINT


def test_direct_validation_errors_while_serving_are_not_waits(stack, monkeypatch):
    from botocore.exceptions import ClientError

    stack.platform.wake_until_ready()

    def reject(**kwargs):
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "Invalid ContentType"}}, "InvokeEndpoint")

    client, slept = direct_client(stack)
    client._runtime_client = SimpleNamespace(invoke_endpoint=reject)
    with pytest.raises(GatewayError, match="SageMaker rejected the request: Invalid ContentType"):
        client.invoke("x", "text/plain", deadline_seconds=60)
    assert slept == []
