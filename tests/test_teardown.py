"""Destroying a manager deletes the endpoints it created first (aws_lambda_invocation, CRUD scope), so an
environment that switches from real-time to another inference mode leaves nothing running unmanaged."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import ENDPOINT
from sleepwake.aws import clients as aws
from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.handlers import manager as entry
from sleepwake.manager.teardown import TeardownBlocked


@pytest.fixture
def handler(platform):
    entry.reset()
    yield entry.handler
    entry.reset()


def lifecycle(action: str, endpoints=(ENDPOINT,)) -> dict:
    """What Terraform sends: the resource's input plus the `tf` key."""
    return {
        "endpoints": list(endpoints),
        "tf": {"action": action, "prev_input": None if action == "create" else {"endpoints": list(endpoints)}},
    }


def endpoints() -> list[str]:
    return [e["EndpointName"] for e in aws.client("sagemaker").list_endpoints()["Endpoints"]]


def test_destroy_deletes_an_awake_endpoint(handler, lambda_context):
    handler({"action": "wake"}, lambda_context)
    assert endpoints() == [ENDPOINT]
    answer = handler(lifecycle("delete"), lambda_context)
    assert answer == {
        "ok": True,
        "action": "teardown",
        "endpoints": [{"endpoint_name": ENDPOINT, "result": "deleting", "sagemaker_status": "InService"}],
    }
    assert endpoints() == []


def test_destroy_of_an_asleep_endpoint_changes_nothing(handler, lambda_context):
    answer = handler(lifecycle("delete"), lambda_context)
    assert answer["endpoints"] == [{"endpoint_name": ENDPOINT, "result": "absent"}]


@pytest.mark.parametrize("action", ["create", "update"])
def test_create_and_update_leave_the_endpoint_alone(handler, lambda_context, action):
    handler({"action": "wake"}, lambda_context)
    assert handler(lifecycle(action), lambda_context) == {"ok": True, "message": "nothing to do"}
    assert endpoints() == [ENDPOINT]


def test_a_refused_delete_fails_the_invocation_so_terraform_keeps_the_manager(handler, lambda_context, monkeypatch):
    handler({"action": "wake"}, lambda_context)

    def refuse(self, name):
        raise ClientError(
            {
                "Error": {
                    "Code": "ValidationException",
                    "Message": f"Cannot delete endpoint {name} while it is Creating",
                }
            },
            "DeleteEndpoint",
        )

    monkeypatch.setattr(SageMakerEndpoints, "delete", refuse)
    with pytest.raises(TeardownBlocked, match=f"would not delete {ENDPOINT} \\(InService\\): Cannot delete endpoint"):
        handler(lifecycle("delete"), lambda_context)


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"tf": {"action": "explode"}}, "tf.action must be one of create, update, delete"),
        ({"tf": {"action": "delete"}, "endpoints": "llm"}, "endpoints must be a list of endpoint names"),
        ({"tf": {"action": "delete"}, "extra": 1}, "unknown field(s) in a Terraform lifecycle event: extra"),
    ],
)
def test_a_malformed_lifecycle_event_changes_nothing(handler, lambda_context, event, error):
    handler({"action": "wake"}, lambda_context)
    assert handler(event, lambda_context) == {"ok": False, "error": error}
    assert endpoints() == [ENDPOINT]
