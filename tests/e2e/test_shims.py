"""Each emulator shim does what it says, and only that (marker e2e: the shims patch moto in this process, so these
run with the e2e suite, never in a process that runs the moto-mocked unit tests)."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

# The harness is imported as tests.e2e.harness, from the repository root (no conftest here: the unit tests'
# `from conftest import ...` must keep finding tests/conftest.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.e2e.harness import iam_eval, shims
from tests.e2e.harness.emulator import ACCOUNT, Emulator

pytestmark = pytest.mark.e2e

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
)


@pytest.fixture(scope="module")
def emulator():
    calls = []
    shims.HOOKS.invoke_function = lambda fn, event: (
        calls.append((fn.function_name, event)) or (json.dumps({"ran": fn.handler}), False, "")
    )
    changes = []
    shims.HOOKS.endpoint_status_changed = lambda name, arn, status: changes.append((name, status))
    emulator = Emulator().start()
    emulator.calls, emulator.changes = calls, changes
    yield emulator
    emulator.stop()


def _role(emulator, name: str, policy: dict | None = None) -> str:
    iam = emulator.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def _function(emulator, name: str, **extra) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return event\n")
    return emulator.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=_role(emulator, f"{name}-role"),
        Handler="h.handler",
        Code={"ZipFile": buffer.getvalue()},
        **extra,
    )["FunctionArn"]


def _assume(emulator, role_arn: str) -> dict:
    from moto.sts.models import sts_backends

    assumed = sts_backends[ACCOUNT]["aws"].assume_role(
        region_name="us-east-1", role_session_name="t", role_arn=role_arn, policy="", duration=900, external_id=""
    )
    return {
        "AccessKeyId": assumed.access_key_id,
        "SecretAccessKey": assumed.secret_access_key,
        "SessionToken": assumed.session_token,
    }


def test_every_shim_is_registered_with_a_reason():
    assert set(shims.SHIMS) == {
        "sqs_redrive_attributes",
        "lambda_esm_owned_by_harness",
        "lambda_invoke_runs_handler",
        "lambda_dead_letter_config",
        "appautoscaling_tags",
        "sagemaker_endpoint_lifecycle",
        "sagemaker_describe_as_created",
        "sagemaker_invoke_endpoint",
        "sagemaker_async_inference",
        "iam_enforcement",
    }
    assert all(len(why) > 40 for why in shims.SHIMS.values())


def test_sqs_redrive_attributes(emulator):
    sqs = emulator.client("sqs")
    dlq = sqs.create_queue(QueueName="t-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    allow = json.dumps({"redrivePermission": "denyAll"})
    url = sqs.create_queue(
        QueueName="t-main",
        Attributes={
            "RedriveAllowPolicy": allow,
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
    )["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["RedriveAllowPolicy"] == allow
    assert attributes["RedrivePolicy"] == f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":5}}'


def test_lambda_esm_owned_by_harness(emulator):
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName="t-esm")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _function(emulator, "t-esm-fn")
    emulator.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="t-esm-fn", Enabled=True)
    before = len(emulator.calls)
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    assert len(emulator.calls) == before  # moto did not deliver it
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "kept"


def test_lambda_invoke_runs_handler_and_keeps_dead_letter_config(emulator):
    sqs = emulator.client("sqs")
    dlq = sqs.create_queue(QueueName="t-fn-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _function(emulator, "t-invoke", DeadLetterConfig={"TargetArn": dlq_arn})
    lam = emulator.client("lambda")
    answer = lam.invoke(FunctionName="t-invoke", Qualifier="$LATEST", Payload=b'{"x": 1}')
    assert json.loads(answer["Payload"].read()) == {"ran": "h.handler"}
    assert emulator.calls[-1] == ("t-invoke", {"x": 1})
    assert lam.get_function_configuration(FunctionName="t-invoke")["DeadLetterConfig"] == {"TargetArn": dlq_arn}


def test_appautoscaling_tags(emulator):
    aas = emulator.client("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId="endpoint/t/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=0,
        MaxCapacity=1,
        Tags={"a": "1"},
    )
    arn = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"][0]["ScalableTargetARN"]
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"a": "1"}
    aas.tag_resource(ResourceARN=arn, Tags={"b": "2"})
    aas.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"b": "2"}


def _model_and_config(emulator, name: str, **config) -> None:
    sm = emulator.client("sagemaker")
    sm.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn=_role(emulator, f"{name}-sm"),
        PrimaryContainer={"Image": "img"},
        EnableNetworkIsolation=True,
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g4dn.xlarge",
            }
        ],
        **config,
    )


def test_sagemaker_describe_as_created(emulator):
    _model_and_config(emulator, "t-desc")
    sm = emulator.client("sagemaker")
    assert sm.describe_model(ModelName="t-desc-model")["EnableNetworkIsolation"] is True
    config = sm.describe_endpoint_config(EndpointConfigName="t-desc-config")
    assert "DataCaptureConfig" not in config and "VpcConfig" not in config


def test_sagemaker_endpoint_lifecycle_and_invoke_endpoint(emulator):
    _model_and_config(emulator, "t-life")
    sm, runtime = emulator.client("sagemaker"), emulator.client("sagemaker-runtime")
    with pytest.raises(ClientError, match="not found"):
        runtime.invoke_endpoint(EndpointName="t-life", Body=b"{}", ContentType="application/json")
    shims.HOOKS.held_endpoints.add("t-life")
    sm.create_endpoint(EndpointName="t-life", EndpointConfigName="t-life-config")
    assert sm.describe_endpoint(EndpointName="t-life")["EndpointStatus"] == "Creating"
    with pytest.raises(ClientError, match="not in service"):
        runtime.invoke_endpoint(EndpointName="t-life", Body=b"{}", ContentType="application/json")
    assert shims.release_endpoint("t-life")
    assert sm.describe_endpoint(EndpointName="t-life")["EndpointStatus"] == "InService"
    answer = runtime.invoke_endpoint(EndpointName="t-life", Body=b'{"inputs": "x"}', ContentType="application/json")
    assert json.loads(answer["Body"].read()) == {"endpoint": "t-life", "echo": {"inputs": "x"}}
    sm.delete_endpoint(EndpointName="t-life")
    assert [c for c in emulator.changes if c[0] == "t-life"] == [
        ("t-life", "Creating"),
        ("t-life", "InService"),
        ("t-life", "Deleting"),
    ]


def test_sagemaker_async_inference(emulator):
    s3, sns, sqs = emulator.client("s3"), emulator.client("sns"), emulator.client("sqs")
    s3.create_bucket(Bucket="t-async")
    ok, err = (sns.create_topic(Name=n)["TopicArn"] for n in ("t-ok", "t-err"))
    url = sqs.create_queue(QueueName="t-results")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=ok, Protocol="sqs", Endpoint=arn)
    sns.subscribe(TopicArn=err, Protocol="sqs", Endpoint=arn)
    _model_and_config(
        emulator,
        "t-async",
        AsyncInferenceConfig={
            "OutputConfig": {
                "S3OutputPath": "s3://t-async/out",
                "S3FailurePath": "s3://t-async/failed",
                "NotificationConfig": {"SuccessTopic": ok, "ErrorTopic": err},
            }
        },
    )
    emulator.client("sagemaker").create_endpoint(EndpointName="t-async", EndpointConfigName="t-async-config")
    s3.put_object(Bucket="t-async", Key="in/good.json", Body=b'{"inputs": 1}')
    s3.put_object(Bucket="t-async", Key="in/bad.json", Body=b'{"inputs": "fail-me"}')
    runtime = emulator.client("sagemaker-runtime")
    good = runtime.invoke_endpoint_async(
        EndpointName="t-async", InputLocation="s3://t-async/in/good.json", InferenceId="good"
    )
    runtime.invoke_endpoint_async(EndpointName="t-async", InputLocation="s3://t-async/in/bad.json", InferenceId="bad")
    assert good["OutputLocation"].startswith("s3://t-async/out/")
    assert shims.process_async() == 2
    key = good["OutputLocation"].removeprefix("s3://t-async/")
    assert b'"inputs": 1' in s3.get_object(Bucket="t-async", Key=key)["Body"].read()
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    statuses = sorted(json.loads(json.loads(m["Body"])["Message"])["invocationStatus"] for m in messages)
    assert statuses == ["Completed", "Failed"]


def test_iam_enforcement(emulator):
    ddb = emulator.client("dynamodb")
    for table in ("t-allowed", "t-other"):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="t-tls-only")
    s3.put_bucket_policy(
        Bucket="t-tls-only",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::t-tls-only", "arn:aws:s3:::t-tls-only/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    role = _role(
        emulator,
        "t-iam",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:GetItem",
                    "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t-allowed",
                    "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["item#*"]}},
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:GetObject"],
                    "Resource": "arn:aws:s3:::t-tls-only/*",
                },
            ],
        },
    )
    as_role = emulator.client("dynamodb", _assume(emulator, role))
    as_role.get_item(TableName="t-allowed", Key={"pk": {"S": "item#1"}})
    iam_eval.DECISIONS.clear()
    with pytest.raises(ClientError, match="dynamodb:GetItem"):
        as_role.get_item(TableName="t-other", Key={"pk": {"S": "item#1"}})
    with pytest.raises(ClientError):
        as_role.get_item(TableName="t-allowed", Key={"pk": {"S": "secret#1"}})
    assert [d[1] for d in iam_eval.DECISIONS.denied] == ["dynamodb:GetItem", "dynamodb:GetItem"]
    assert "table/t-other" in iam_eval.DECISIONS.denied[0][2]
    s3_role = emulator.client("s3", _assume(emulator, role))
    s3_role.put_object(Bucket="t-tls-only", Key="k", Body=b"v")  # the deny's condition is false: no deny
    assert s3_role.get_object(Bucket="t-tls-only", Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError):
        s3_role.delete_object(Bucket="t-tls-only", Key="k")


def test_condition_operators():
    holds = iam_eval.condition_holds
    assert holds("StringEquals", "k", ["a"], {"k": "a"})
    assert not holds("StringEquals", "k", ["a"], {})
    assert holds("StringNotEquals", "k", ["a"], {})
    assert holds("ForAllValues:StringLike", "k", ["x#*"], {"k": []})
    assert not holds("ForAllValues:StringLike", "k", ["x#*"], {"k": ["x#1", "y#1"]})
    assert holds("Bool", "aws:SecureTransport", ["true"], {"aws:SecureTransport": "true"})
    with pytest.raises(iam_eval.Unknowable):
        holds("StringEquals", "aws:SourceAccount", ["1"], {})
