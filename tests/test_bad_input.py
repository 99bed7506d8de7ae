"""Bad input to every handler gets a clear error naming the problem and changes nothing: malformed API Gateway
envelopes, deeply nested JSON, NaN and Infinity, strings where booleans belong, and huge values, which are never
echoed back whole."""

from __future__ import annotations

import copy
import json

import pytest

from async_support import INPUT_BUCKET, async_platform, sns_event  # noqa: F401
from conftest import ENDPOINT, load_event
from gateway_support import http_event, proxy_answer, stack  # noqa: F401
from sleepwake.aws import clients as aws
from sleepwake.common.errors import BadEvent
from sleepwake.common.parsing import JsonError, echo, loads
from sleepwake.handlers import async_notify, async_trigger
from sleepwake.handlers import authorizer as authorizer_entry
from sleepwake.handlers import gateway as gateway_entry
from sleepwake.handlers import manager as manager_entry
from sleepwake.handlers import replay_control as control_entry
from sleepwake.manager.events import parse

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "x" * 100_000
MAX_ERROR_CHARS = 600  # any error message here: long enough to name the problem, never an echoed 100 KB value


def send(event) -> tuple[int, dict]:
    answer = proxy_answer(gateway_entry.handler(event, None))
    return answer.status, answer.json()


def invoke_event(**changes) -> dict:
    event = http_event("POST", "/invoke", '{"inputs": "hello"}', headers={"content-type": "application/json"})
    for path, value in changes.items():
        target = event
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return event


# ---- the strict JSON helper -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"x": NaN}', "NaN is not a JSON number"),
        ('{"x": Infinity}', "Infinity is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        (DEEP, "nested more than 64 levels deep"),
        ('{"a": ' * 65 + "1" + "}" * 65, "nested more than 64 levels deep"),
        (b"\xff\xfe", "not UTF-8 text"),
        ("{", "Expecting property name enclosed in double quotes at line 1 column 2"),
    ],
)
def test_strict_json_refuses_what_python_would_accept_or_crash_on(text, problem):
    with pytest.raises(JsonError, match=problem.replace("(", r"\(")):
        loads(text)


def test_strict_json_accepts_brackets_inside_strings_and_64_levels():
    assert loads('{"text": "' + "[" * 1000 + '"}') == {"text": "[" * 1000}
    assert loads("[" * 64 + "]" * 64) is not None


def test_echo_cuts_long_values_and_says_how_long_they_were():
    shown = echo(HUGE)
    assert len(shown) < 200 and shown.endswith("... (100000 characters)")
    assert echo("short") == "'short'" and echo("short", as_json=True) == '"short"' and echo(3.5) == "3.5"


# ---- the gateway --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"headers": ["content-type", "application/json"]}, "headers must be an object, got list"),
        ({"headers": "content-type: application/json"}, "headers must be an object, got str"),
        ({"headers": {"content-type": 7}}, "headers must map names to strings; 'content-type' maps to a int"),
        ({"body": 12}, "body must be a string"),
        ({"body": {"inputs": "hello"}}, "body must be a string"),
        ({"body": ["hello"]}, "body must be a string"),
        ({"requestContext": "POST /invoke"}, "requestContext must be an object, got str"),
        ({"requestContext.http": "POST /invoke"}, "requestContext.http must be an object, got str"),
        ({"requestContext.http": ["POST"], "rawPath": None}, "requestContext.http must be an object, got list"),
        ({"requestContext.authorizer": "test-app"}, "requestContext.authorizer must be an object, got str"),
        (
            {"requestContext.authorizer": {"lambda": ["test-app"]}},
            "requestContext.authorizer.lambda must be an object, got list",
        ),
        ({"requestContext.authorizer": {"lambda": {"token_name": 7}}}, "token_name must be a string"),
        ({"isBase64Encoded": "false"}, 'isBase64Encoded must be true or false, got "false" (str)'),
        ({"isBase64Encoded": "true"}, 'isBase64Encoded must be true or false, got "true" (str)'),
        ({"isBase64Encoded": 1}, "isBase64Encoded must be true or false, got 1 (int)"),
        ({"rawPath": 42, "requestContext.http": {"method": "POST"}}, "rawPath (both must be strings)"),
        ({"version": "1.0"}, "payload format version 2.0"),
    ],
)
def test_malformed_envelopes_are_a_400_naming_the_part(stack, change, problem):
    before = stack.snapshot()
    status, body = send(invoke_event(**change))
    assert status == 400 and problem in body["error"], body
    assert stack.snapshot() == before


@pytest.mark.parametrize("event", [[], "POST /invoke", 7, None])
def test_an_event_that_is_not_an_object_is_a_400(stack, event):
    status, body = send(event)
    assert status == 400 and "payload format version 2.0" in body["error"]


def test_a_base64_flag_that_is_a_real_false_is_honoured(stack):
    stack.platform.wake_until_ready()
    from gateway_support import set_model_results

    set_model_results(('{"ok": true}', "application/json"))
    status, body = send(invoke_event(isBase64Encoded=False))
    assert (status, body) == (200, {"ok": True})


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/invoke", DEEP, "nested more than 64 levels deep"),
        ("/invoke", '{"inputs": [1, NaN]}', "NaN is not a JSON number"),
        ("/invoke", '{"inputs": Infinity}', "Infinity is not a JSON number"),
        ("/lease", DEEP, "nested more than 64 levels deep"),
        ("/lease", '{"minutes": NaN}', "NaN is not a JSON number"),
        ("/lease", '{"minutes": -Infinity}', "-Infinity is not a JSON number"),
        ("/lease", '{"minutes": 1e400}', "Infinity"),  # Python reads 1e400 as inf: not a whole number of minutes
        ("/lease", '{"minutes": 30.5}', '"minutes" must be a whole number, got 30.5'),
        ("/lease", '{"minutes": true}', '"minutes" must be a whole number, got true'),
        ("/lease", '{"minutes": "30"}', '"minutes" must be a whole number, got "30"'),
        ("/lease", json.dumps({"minutes": HUGE}), "... (100000 characters)"),
        ("/lease", json.dumps({HUGE: 1}), "... (100000 characters)"),
    ],
)
def test_bad_json_bodies_are_a_400_and_change_nothing(stack, path, body, problem):
    before = stack.snapshot()
    answer = stack.call("POST", path, body)
    assert answer.status == 400 and problem in answer.json()["error"], answer.json()
    assert len(answer.json()["error"]) < MAX_ERROR_CHARS
    assert stack.snapshot() == before


def test_a_whole_number_of_minutes_written_as_a_float_is_accepted(stack):
    answer = stack.call("POST", "/lease", '{"minutes": 30.0}')
    assert answer.status == 200 and answer.json()["seconds_left"] == 1800
    assert answer.json()["extended_by_minutes"] == 30


def test_a_huge_path_or_content_type_is_not_echoed_back_whole(stack):
    status, body = send(invoke_event(rawPath="/" + HUGE))
    assert status == 404 and len(body["error"]) < MAX_ERROR_CHARS
    status, body = send(invoke_event(**{"headers": {"content-type": "application/json; x=" + HUGE}, "body": "{"}))
    assert status == 400 and len(body["error"]) < MAX_ERROR_CHARS


# ---- the manager's events ---------------------------------------------------------------------------------------
@pytest.fixture
def manager_handler(platform):
    manager_entry.reset()
    yield manager_entry.handler
    manager_entry.reset()


def manager_snapshot():
    items = aws.client("dynamodb").scan(TableName="sleepwake-test-state")["Items"]
    return items, aws.client("sagemaker").list_endpoints()["Endpoints"]


def state_change(name) -> dict:
    event = copy.deepcopy(load_event("state_change_inservice.json"))
    event["detail"]["EndpointName"] = name
    return event


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"action": "wake", "endpoint_name": HUGE}, "is not a SageMaker endpoint name"),
        ({"action": "status", "endpoint_name": "has spaces"}, "'has spaces' is not a SageMaker endpoint name"),
        ({"action": "wake", "endpoint_name": 7}, "endpoint_name must be a non-empty string, got 7"),
        ({"action": HUGE}, "unknown action"),
        ({"action": "wake", HUGE: 1}, "unknown field(s)"),
        ({"source": HUGE, "detail-type": "x"}, "unknown event: source"),
        ({HUGE: 1}, "got keys"),
        (state_change(HUGE), "detail.EndpointName"),
        (state_change(["llm-endpoint"]), "detail.EndpointName must be a non-empty string"),
        ({"tf": {"action": "delete"}, "endpoints": [HUGE]}, "endpoints[0]"),
        ({"tf": {"action": "delete"}, "endpoints": [7]}, "endpoints[0] must be a non-empty string"),
    ],
)
def test_bad_manager_events_are_refused_without_echoing_huge_values(manager_handler, event, problem):
    before = manager_snapshot()
    answer = manager_handler(event, None)
    assert answer["ok"] is False and problem in answer["error"], answer
    assert len(answer["error"]) < MAX_ERROR_CHARS
    assert manager_snapshot() == before


def test_endpoint_names_follow_sagemakers_rule():
    assert parse({"action": "status", "endpoint_name": "a" * 63}).endpoint_name == "a" * 63
    for bad in ("a" * 64, "-leading", "trailing-", "under_score", ""):
        with pytest.raises(BadEvent):
            parse({"action": "status", "endpoint_name": bad})


def test_the_replay_switch_refuses_bad_events_without_echoing_them(stack, monkeypatch):
    monkeypatch.setattr(control_entry, "_control", lambda: pytest.fail("must not be built for a bad event"))
    for event in (state_change(HUGE), "scheduled", [1], {"action": HUGE}):
        answer = control_entry.handler(event, None)
        assert answer["ok"] is False and len(answer["error"]) < MAX_ERROR_CHARS


# ---- the async functions ----------------------------------------------------------------------------------------
@pytest.fixture
def fresh_async_handlers():
    async_notify.reset()
    async_trigger.reset()
    yield
    async_notify.reset()
    async_trigger.reset()


def _sns(message: str) -> dict:
    event = sns_event("sns_async_success.json", inference_id="x", input_location=f"s3://{INPUT_BUCKET}/inputs/k")
    event["Records"][0]["Sns"]["Message"] = message
    return event


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ('{"a": ' * 100_000, "nested more than 64 levels deep"),
        (DEEP, "nested more than 64 levels deep"),
        ('{"invocationStatus": "Completed", "x": NaN}', "NaN is not a JSON number"),
        ("not json " + HUGE, "Sns.Message is not JSON"),
        (json.dumps({"invocationStatus": HUGE}), "invocationStatus"),
        (json.dumps({"invocationStatus": "Completed", "inferenceId": HUGE}), "inferenceId"),
        (
            json.dumps(
                {
                    "invocationStatus": "Completed",
                    "inferenceId": "x",
                    "requestParameters": {"inputLocation": "s3://b/" + HUGE},
                }
            ),
            "inputLocation",
        ),
        (
            json.dumps(
                {
                    "invocationStatus": "Completed",
                    "inferenceId": "x",
                    "requestParameters": {"inputLocation": "s3://bkt/k", "endpointName": HUGE},
                    "responseParameters": {"outputLocation": "s3://bkt/o"},
                }
            ),
            "endpointName",
        ),
    ],
)
def test_bad_sns_messages_are_refused_naming_the_problem(async_platform, fresh_async_handlers, message, problem):
    before = async_platform.table_items()
    answer = async_notify.handler(_sns(message))
    assert answer["ok"] is False and problem in answer["error"], answer
    assert len(answer["error"]) < MAX_ERROR_CHARS
    assert async_platform.table_items() == before


def test_a_huge_s3_key_outside_the_prefix_is_not_echoed_whole(async_platform, fresh_async_handlers):
    event = async_platform.s3_event("elsewhere/" + HUGE, "v1")
    answer = async_trigger.handler(event)
    assert answer["ok"] is False and "is not under the input prefix" in answer["error"]
    assert len(answer["error"]) < MAX_ERROR_CHARS


# ---- the authorizer ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"headers": ["authorization", "Bearer x"]},
        {"headers": "authorization: Bearer x"},
        {"identitySource": "Bearer swk_" + "a" * 43, "headers": {}},
        {"identitySource": [7], "headers": {}},
        {"requestContext": "ctx"},
        {"requestContext": {"requestId": ["x"]}},
    ],
)
def test_malformed_authorizer_events_are_refused_not_crashed(stack, change):
    token = stack.tokens.create("app-one", now=stack.clock.now())
    event = copy.deepcopy(load_event("authorizer_request.json"))
    event["headers"]["authorization"] = event["identitySource"][0] = f"Bearer {token}"
    assert authorizer_entry.handler(copy.deepcopy(event), None)["isAuthorized"] is True
    event.update(change)
    answer = authorizer_entry.handler(event, None)
    if "requestContext" in change:  # the request id is only for the logs: the token still decides
        assert answer["isAuthorized"] is True
    else:
        assert answer == {"isAuthorized": False}


@pytest.mark.parametrize("event", [None, [], "Bearer x", 7])
def test_an_authorizer_event_that_is_not_an_object_is_refused(stack, event):
    assert authorizer_entry.handler(event, None) == {"isAuthorized": False}


def test_endpoint_constant_is_a_valid_name():
    assert parse({"action": "status", "endpoint_name": ENDPOINT}).endpoint_name == ENDPOINT


# ---- every part of every sample event, replaced by every wrong type ----------------------------------------------
WRONG = [None, 7, 2.5, True, "", "x" * 5000, [], ["a", 1], {}, {"a": {"b": []}}]


def mutations(event):
    """(path, mutated event) for every node of `event` replaced by every value of WRONG."""

    def paths(node, prefix=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield prefix + (key,)
                yield from paths(value, prefix + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield prefix + (index,)
                yield from paths(value, prefix + (index,))

    for path in list(paths(event)):
        for wrong in WRONG:
            mutated = copy.deepcopy(event)
            target = mutated
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = copy.deepcopy(wrong)
            yield path, mutated


def test_no_malformed_gateway_event_crashes_the_gateway(stack):
    event = http_event("GET", "/lease", None)
    for path, mutated in mutations(event):
        answer = gateway_entry.handler(mutated, None)
        assert answer["statusCode"] < 500, (path, answer)


def test_no_malformed_authorizer_event_crashes_the_authorizer(stack):
    event = load_event("authorizer_request.json")
    for path, mutated in mutations(event):
        answer = authorizer_entry.handler(mutated, None)
        assert answer == {"isAuthorized": False}, (path, answer)  # the placeholder token is no valid token


def test_no_malformed_manager_event_crashes_the_manager(manager_handler):
    for name in ("state_change_inservice.json", "wake.json", "scheduled.json"):
        for path, mutated in mutations(load_event(name)):
            answer = manager_handler(mutated, None)
            assert isinstance(answer, dict) and "ok" in answer, (name, path)
            if not answer["ok"]:
                assert len(answer["error"]) < MAX_ERROR_CHARS, (name, path)


def _still_names_the_input(event) -> bool:
    try:
        record = event["Records"][0]
        return (
            record["s3"]["object"]["key"] == "inputs/k.json"
            and record["eventSource"] == "aws:s3"
            and record["eventName"].startswith("ObjectCreated:")
            and record["s3"]["bucket"]["name"] == INPUT_BUCKET
        )
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def test_no_malformed_s3_or_sns_event_crashes_the_async_functions(async_platform, fresh_async_handlers):
    s3_event = async_platform.s3_event("inputs/k.json", "v1")
    s3_event["Records"][0]["s3"]["bucket"]["name"] = INPUT_BUCKET
    before = async_platform.table_items()
    for path, mutated in mutations(s3_event):
        if _still_names_the_input(mutated):
            continue  # a valid event still (a changed eventTime, size...): not what this test is about
        answer = async_trigger.handler(mutated)
        assert answer["ok"] is False and len(answer["error"]) < MAX_ERROR_CHARS, (path, answer)
    assert async_platform.table_items() == before
    sns = _sns(
        json.dumps(
            {
                "invocationStatus": "Completed",
                "inferenceId": "x",
                "requestParameters": {"inputLocation": f"s3://{INPUT_BUCKET}/inputs/k"},
                "responseParameters": {"outputLocation": "s3://out/o"},
            }
        )
    )
    for path, mutated in mutations(sns):
        answer = async_notify.handler(mutated)
        assert isinstance(answer, dict) and "ok" in answer, path
    message = json.loads(sns["Records"][0]["Sns"]["Message"])
    for path, mutated in mutations(message):
        answer = async_notify.handler(_sns(json.dumps(mutated)))
        assert isinstance(answer, dict) and "ok" in answer, path
    assert async_platform.table_items() == before


def test_no_malformed_state_change_event_crashes_the_replay_switch(stack, monkeypatch):
    class Control:
        endpoint_name = ENDPOINT

        @staticmethod
        def reconcile(reason):
            return {"ok": True, "reason": reason}

    monkeypatch.setattr(control_entry, "_control", lambda: Control())
    for path, mutated in mutations(load_event("state_change_inservice.json")):
        answer = control_entry.handler(mutated, None)
        assert isinstance(answer, dict) and "ok" in answer, path
