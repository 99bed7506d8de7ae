"""A fallback answer while the endpoint wakes (issue 15): requests that accept it (`Prefer: fallback`, or every
synchronous request with SLEEPWAKE_FALLBACK_BY_DEFAULT) get the fallback endpoint's answer, marked with
`X-Sleepwake-Served-By: fallback`, while one wake starts; the others get 503/202 as today; a failing fallback
gives the 503 the request would have had without it."""

from __future__ import annotations

import pytest

from conftest import CONFIG, ENDPOINT, WAKE_SECONDS, manager_env
from gateway_support import set_model_results, stack  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.common.errors import SettingsError
from sleepwake.gateway.settings import load_gateway_settings

FALLBACK = "llm-endpoint-fallback"
HELLO = '{"inputs": "hello"}'
JSON = {"content-type": "application/json"}


@pytest.fixture
def with_fallback(stack):
    # The serverless fallback is always there (Terraform owns it): an InService endpoint in the emulator.
    aws.client("sagemaker").create_endpoint(EndpointName=FALLBACK, EndpointConfigName=CONFIG)
    return stack.rebuild(SLEEPWAKE_FALLBACK_ENDPOINT=FALLBACK)


def test_a_request_that_accepts_the_fallback_gets_its_answer_marked_while_one_wake_starts(with_fallback):
    s = with_fallback
    set_model_results(('{"generated_text": "small model"}', "application/json"))
    answer = s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "fallback"})
    assert answer.status == 200
    assert answer.json() == {"generated_text": "small model"}
    assert answer.headers["x-sleepwake-served-by"] == "fallback"
    assert answer.headers["x-sleepwake-state"] == "waking"
    assert answer.headers["retry-after"] == str(WAKE_SECONDS)
    assert s.platform.endpoints.creates == 1  # the GPU wake started as usual
    assert s.runtime.calls == [ENDPOINT, FALLBACK]
    # a second one while it wakes: the fallback again, still one wake
    s.clock.advance(100)
    set_model_results(('{"generated_text": "again"}', "application/json"))
    again = s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "fallback"})
    assert again.status == 200 and again.headers["x-sleepwake-served-by"] == "fallback"
    assert s.platform.endpoints.creates == 1


def test_once_the_endpoint_serves_requests_accepting_the_fallback_get_the_model(with_fallback):
    s = with_fallback
    s.platform.wake_until_ready()
    set_model_results(('{"generated_text": "gpu"}', "application/json"))
    answer = s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "fallback"})
    assert answer.status == 200 and answer.json() == {"generated_text": "gpu"}
    assert "x-sleepwake-served-by" not in answer.headers
    assert s.runtime.calls == [ENDPOINT]


def test_a_request_that_does_not_accept_the_fallback_gets_503_or_202_as_today(with_fallback):
    s = with_fallback
    answer = s.call("POST", "/invoke", HELLO)
    assert answer.status == 503 and answer.headers["retry-after"] == str(WAKE_SECONDS)
    assert FALLBACK not in s.runtime.calls
    queued = s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "respond-async"})
    assert queued.status == 202
    assert FALLBACK not in s.runtime.calls
    assert s.platform.endpoints.creates == 1


def test_with_the_fallback_by_default_every_synchronous_request_accepts_it(with_fallback):
    s = with_fallback.rebuild(SLEEPWAKE_FALLBACK_ENDPOINT=FALLBACK, SLEEPWAKE_FALLBACK_BY_DEFAULT="true")
    set_model_results(('{"generated_text": "small"}', "application/json"))
    answer = s.call("POST", "/invoke", HELLO)
    assert answer.status == 200 and answer.headers["x-sleepwake-served-by"] == "fallback"
    assert s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "respond-async"}).status == 202


def test_a_failing_fallback_gives_503_as_today(with_fallback):
    s = with_fallback
    s.runtime.fail_next(2)  # the first call goes to the sleeping endpoint, the second (the fallback's) fails
    answer = s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "fallback"})
    assert answer.status == 503 and answer.headers["retry-after"] == str(WAKE_SECONDS)
    assert answer.json()["state"] == "waking"
    assert "x-sleepwake-served-by" not in answer.headers
    assert s.platform.endpoints.creates == 1


def test_an_absent_fallback_gives_503_as_today(stack):
    s = stack.rebuild(SLEEPWAKE_FALLBACK_ENDPOINT=FALLBACK)  # configured, but not there
    answer = s.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "fallback"})
    assert answer.status == 503 and answer.json()["state"] == "waking"
    assert s.platform.endpoints.creates == 1


def test_without_a_fallback_prefer_fallback_changes_nothing(stack):
    answer = stack.call("POST", "/invoke", HELLO, headers={**JSON, "Prefer": "fallback"})
    assert answer.status == 503
    assert stack.runtime.calls == [ENDPOINT]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"SLEEPWAKE_FALLBACK_ENDPOINT": "bad_name"}, "SLEEPWAKE_FALLBACK_ENDPOINT must be a SageMaker endpoint name"),
        ({"SLEEPWAKE_FALLBACK_ENDPOINT": ENDPOINT}, "must be another endpoint"),
        ({"SLEEPWAKE_FALLBACK_BY_DEFAULT": "yes please"}, "SLEEPWAKE_FALLBACK_BY_DEFAULT must be true or false"),
        ({"SLEEPWAKE_FALLBACK_BY_DEFAULT": "true"}, "SLEEPWAKE_FALLBACK_ENDPOINT is not set"),
    ],
)
def test_bad_fallback_settings_are_named(overrides, problem):
    env = {
        **manager_env(),
        "SLEEPWAKE_GATEWAY_ENDPOINT": ENDPOINT,
        "SLEEPWAKE_REQUEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "SLEEPWAKE_REQUEST_BUCKET": "bucket-name",
        **overrides,
    }
    with pytest.raises(SettingsError) as error:
        load_gateway_settings(env)
    assert problem in str(error.value)


def test_the_client_takes_the_fallback_when_asked_and_says_so(with_fallback):
    from gateway_support import serve
    from sleepwake_client.client import EndpointWakingError, SleepwakeClient

    s = with_fallback
    token = s.tokens.create("client-test", now=s.clock.now())
    with serve(s.emulator()) as url:
        client = SleepwakeClient(api_url=url, token=token, sleep=s.clock.advance, clock=s.clock.now)
        set_model_results(('{"generated_text": "small model"}', "application/json"))
        answer = client.invoke({"inputs": "hello"}, accept_fallback=True)
        assert answer.json() == {"generated_text": "small model"}
        assert answer.from_fallback and answer.served_by == "fallback"
        assert (answer.state, answer.retry_after_seconds, answer.attempts) == ("waking", WAKE_SECONDS, 1)
        # without accept_fallback the client waits for the model as before
        with pytest.raises(EndpointWakingError):
            client.invoke({"inputs": "hello"}, deadline_seconds=0)
        s.clock.advance(WAKE_SECONDS)
        s.platform.manager.tick()
        set_model_results(('{"generated_text": "gpu"}', "application/json"))
        answer = client.invoke({"inputs": "hello gpu"}, accept_fallback=True)  # moto answers by input
        assert answer.json() == {"generated_text": "gpu"} and not answer.from_fallback
