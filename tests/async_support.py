"""Shared set-up of the async tests: the state table, a versioned input bucket and the output bucket in moto, the
service on a fake clock, and a count of the InvokeEndpointAsync calls that reached (moto's) SageMaker.

moto 5 implements sagemaker-runtime InvokeEndpointAsync (it returns an output and a failure location and writes a
canned result), so the trigger's real boto3 call is exercised. moto answers the same InputLocation from a cache,
so a second invoke would look like the first; the spy below counts every call that reaches the backend instead.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import pytest
from moto.sagemakerruntime.models import SageMakerRuntimeBackend

from conftest import load_event
from sleepwake.asyncjobs.jobs import AsyncJobs, AsyncRuntime, InputObjects, JobStore
from sleepwake.asyncjobs.settings import load_async_settings
from sleepwake.aws import clients as aws
from sleepwake_sim.doubles import FakeClock
from sleepwake_sim.emulator import create_state_table

TABLE = "sleepwake-test-async-state"
INPUT_BUCKET = "sleepwake-test-inputs"
OUTPUT_BUCKET = "sleepwake-test-outputs"
ENDPOINT = "sleepwake-test-async"
INPUT_PREFIX = "inputs/"

ASYNC_ENV = {
    "SLEEPWAKE_ASYNC_TABLE_NAME": TABLE,
    "SLEEPWAKE_ASYNC_ENDPOINT_NAME": ENDPOINT,
    "SLEEPWAKE_ASYNC_INPUT_BUCKET": INPUT_BUCKET,
    "SLEEPWAKE_ASYNC_INPUT_PREFIX": INPUT_PREFIX,
    "SLEEPWAKE_ASYNC_FAILED_PREFIX": "failed/",
    "SLEEPWAKE_ASYNC_CLAIM_SECONDS": "90",
    "SLEEPWAKE_ENVIRONMENT": "test",
}


@dataclass
class AsyncPlatform:
    jobs: AsyncJobs
    clock: FakeClock
    invocations: list[dict] = field(default_factory=list)

    @property
    def s3(self):
        return aws.client("s3")

    def upload(self, key: str, body: bytes = b'{"inputs": "I love this"}', content_type: str = "application/json"):
        return self.s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=body, ContentType=content_type)["VersionId"]

    def s3_event(
        self, key: str, version_id: str | None, sequencer: str = "0055AED6DCD90281E5", encoded_key: str | None = None
    ) -> dict:
        event = copy.deepcopy(load_event("s3_object_created.json"))
        obj = event["Records"][0]["s3"]["object"]
        obj["key"] = encoded_key or key
        obj["sequencer"] = sequencer
        if version_id is None:
            del obj["versionId"]
        else:
            obj["versionId"] = version_id
        return event

    def record(self, inference: str) -> dict | None:
        return self.jobs.store.get(inference)

    def table_items(self) -> list[dict]:
        return aws.client("dynamodb").scan(TableName=TABLE)["Items"]


def sns_event(template: str, *, inference_id: str, input_location: str, endpoint: str = ENDPOINT) -> dict:
    event = copy.deepcopy(load_event(template))
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["inferenceId"] = inference_id
    message["requestParameters"]["inputLocation"] = input_location
    message["requestParameters"]["endpointName"] = endpoint
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


@pytest.fixture
def async_platform(aws_mock, monkeypatch) -> AsyncPlatform:
    for key, value in ASYNC_ENV.items():
        monkeypatch.setenv(key, value)
    create_state_table(TABLE)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=INPUT_BUCKET)
    s3.put_bucket_versioning(Bucket=INPUT_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=OUTPUT_BUCKET)

    invocations: list[dict] = []
    original = SageMakerRuntimeBackend.invoke_endpoint_async

    def spy(self, endpoint_name, input_location):
        invocations.append({"endpoint_name": endpoint_name, "input_location": input_location})
        return original(self, endpoint_name, input_location)

    monkeypatch.setattr(SageMakerRuntimeBackend, "invoke_endpoint_async", spy)
    clock = FakeClock()
    settings = load_async_settings(ASYNC_ENV)
    jobs = AsyncJobs(settings, JobStore(TABLE), AsyncRuntime(), InputObjects(), clock)
    return AsyncPlatform(jobs, clock, invocations)
