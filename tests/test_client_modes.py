"""sleepwake_client.client in the other inference modes: serverless (direct, no wake) and async (upload + status)."""

from __future__ import annotations

import json
import os

import pytest
from botocore.exceptions import ClientError

from async_support import INPUT_BUCKET, OUTPUT_BUCKET, TABLE, async_platform, sns_event  # noqa: F401
from sleepwake.asyncjobs.events import parse_s3_event
from sleepwake.asyncjobs.jobs import inference_id
from sleepwake.aws import clients as aws
from sleepwake.handlers import async_notify
from sleepwake_client.client import GatewayError, JobFailedError, JobPendingError, SleepwakeClient


class ScriptedRuntime:
    """A sagemaker-runtime stand-in answering from a script of errors and bodies."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = 0

    def invoke_endpoint(self, **kwargs):
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, str):
            raise ClientError({"Error": {"Code": step, "Message": f"{step} from the test"}}, "InvokeEndpoint")

        class Body:
            def read(self_inner):
                return step

        return {"Body": Body(), "ContentType": "application/json"}


def no_wake(name):
    raise AssertionError("a serverless endpoint is never woken by the client")


def test_serverless_invokes_directly_and_waits_out_throttling():
    runtime = ScriptedRuntime("ThrottlingException", "ThrottlingException", b'{"label": "positive"}')
    slept = []
    client = SleepwakeClient(
        endpoint_name="model-serverless",
        mode="serverless",
        runtime_client=runtime,
        wake=no_wake,
        sleep=slept.append,
        clock=lambda: 0.0,
    )
    answer = client.invoke({"inputs": "great"}, deadline_seconds=30)
    assert answer.json() == {"label": "positive"}
    assert (runtime.calls, answer.attempts) == (3, 3)
    assert slept == [1.0, 2.0]  # exponential backoff


def test_serverless_rejections_are_errors_not_wakes():
    client = SleepwakeClient(
        endpoint_name="model-serverless",
        mode="serverless",
        runtime_client=ScriptedRuntime("ValidationError"),
        wake=no_wake,
    )
    with pytest.raises(GatewayError, match="ValidationError"):
        client.invoke({"inputs": "x"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "batch", "endpoint_name": "e"}, "mode must be one of realtime, serverless, async"),
        ({"mode": "serverless"}, "serverless mode needs endpoint_name"),
        ({"mode": "async", "input_bucket": "b"}, "async mode needs input_bucket, input_prefix and state_table"),
    ],
)
def test_bad_client_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SleepwakeClient(**kwargs)


def test_from_outputs_builds_the_client_each_mode_needs():
    serverless = SleepwakeClient.from_outputs(
        {"inference_mode": {"value": "serverless"}, "endpoint_name": {"value": "m-serverless"}}
    )
    assert (serverless.mode, serverless.endpoint_name) == ("serverless", "m-serverless")
    queued = SleepwakeClient.from_outputs(
        {"inference_mode": "async", "input_bucket": "in", "input_prefix": "inputs/", "state_table_name": "t"}
    )
    assert (queued.mode, queued.input_bucket, queued.state_table) == ("async", "in", "t")
    direct = SleepwakeClient.from_outputs(
        {"inference_mode": "realtime", "endpoint_name": "m", "manager_function_name": "m-manager", "api_url": None}
    )
    assert (direct.mode, direct.manager_function) == ("realtime", "m-manager")
    with pytest.raises(ValueError, match="inference_mode"):
        SleepwakeClient.from_outputs({"endpoint_name": "m"})


def test_from_outputs_reads_environment_variables_named_after_the_outputs(monkeypatch):
    # an app Lambda gets the outputs as environment variables, in upper case, with or without the prefix
    env = {"INFERENCE_MODE": "serverless", "SLEEPWAKE_ENDPOINT_NAME": "m-serverless", "PATH": "/usr/bin"}
    client = SleepwakeClient.from_outputs(env)
    assert (client.mode, client.endpoint_name) == ("serverless", "m-serverless")
    monkeypatch.setenv("INFERENCE_MODE", "async")
    monkeypatch.setenv("INPUT_BUCKET", "in")
    monkeypatch.setenv("INPUT_PREFIX", "inputs/")
    monkeypatch.setenv("STATE_TABLE_NAME", "t")
    queued = SleepwakeClient.from_outputs(os.environ)
    assert (queued.mode, queued.input_bucket, queued.input_prefix) == ("async", "in", "inputs/")
    # the Terraform name wins over a variable of the same name
    assert (
        SleepwakeClient.from_outputs(
            {"inference_mode": "serverless", "INFERENCE_MODE": "async", "endpoint_name": "m"}
        ).mode
        == "serverless"
    )


class Platform:
    """What AWS does between the upload and the result: the trigger submits, SageMaker answers on SNS."""

    def __init__(self, async_platform, outcome: str):
        self.platform = async_platform
        self.outcome = outcome

    def run_once(self, _seconds: float) -> None:
        s3 = aws.client("s3")
        for version in s3.list_object_versions(Bucket=INPUT_BUCKET, Prefix="inputs/").get("Versions", []):
            key, version_id = version["Key"], version["VersionId"]
            inputs, _ = parse_s3_event(self.platform.s3_event(key, version_id), bucket=INPUT_BUCKET, prefix="inputs/")
            self.platform.jobs.submit(inputs[0])
            iid = inference_id(INPUT_BUCKET, key, version_id)
            template = "sns_async_success.json" if self.outcome == "success" else "sns_async_error.json"
            event = sns_event(template, inference_id=iid, input_location=f"s3://{INPUT_BUCKET}/{key}")
            message = json.loads(event["Records"][0]["Sns"]["Message"])
            if self.outcome == "success":
                output = message["responseParameters"]["outputLocation"]
                s3.put_object(
                    Bucket=OUTPUT_BUCKET,
                    Key=output.split("/", 3)[3],
                    Body=b'{"label": "positive"}',
                    ContentType="application/json",
                )
            async_notify.reset()
            async_notify.handler(event, None)


def async_client(sleep) -> SleepwakeClient:
    return SleepwakeClient(
        mode="async",
        input_bucket=INPUT_BUCKET,
        input_prefix="inputs/",
        state_table=TABLE,
        sleep=sleep,
        clock=lambda: 0.0,
    )


def test_async_invoke_uploads_waits_for_the_result_and_reads_it(async_platform):
    platform = Platform(async_platform, "success")
    answer = async_client(platform.run_once).invoke({"inputs": "great"}, deadline_seconds=600)
    assert answer.body == b'{"label": "positive"}'
    assert answer.content_type == "application/json"  # the output's own type, not a guess
    assert answer.attempts == 2
    assert len(async_platform.invocations) == 1


def test_async_failure_surfaces_the_reason_and_where_the_input_was_kept(async_platform):
    platform = Platform(async_platform, "error")
    with pytest.raises(JobFailedError, match="failed: ClientError") as caught:
        async_client(platform.run_once).invoke({"inputs": "boom"}, deadline_seconds=600)
    assert caught.value.status["failed_copy"].startswith(f"s3://{INPUT_BUCKET}/failed/")


def test_async_deadline_gives_a_pending_error_with_the_job_to_poll(async_platform):
    now = [0.0]
    client = SleepwakeClient(
        mode="async",
        input_bucket=INPUT_BUCKET,
        input_prefix="inputs/",
        state_table=TABLE,
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        clock=lambda: now[0],
    )
    with pytest.raises(JobPendingError, match="is still unknown after 5 s") as caught:
        client.invoke({"inputs": "slow"}, deadline_seconds=5)
    assert client.job_status(caught.value.job)["status"] == "unknown"  # the trigger has not run in this test
