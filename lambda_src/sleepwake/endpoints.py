"""SageMaker endpoint operations, behind a small adapter the manager and the tests share."""

from __future__ import annotations

from typing import Mapping

from . import aws
from .core import Observed

MANAGED_BY_TAG = ("managed-by", "sagemaker-sleepwake")


def _is_missing(exc: Exception) -> bool:
    return aws.error_code(exc) == "ValidationException" and "could not find" in aws.error_message(exc).lower()


def _already_exists(exc: Exception) -> bool:
    message = aws.error_message(exc).lower()
    return aws.error_code(exc) in ("ValidationException", "ResourceInUse") and (
        "already exist" in message or "already in use" in message)


class SageMakerEndpoints:
    @property
    def _sm(self):
        return aws.client("sagemaker")

    def describe(self, name: str) -> Observed | None:
        try:
            answer = self._sm.describe_endpoint(EndpointName=name)
        except Exception as exc:  # noqa: BLE001 - classified below, anything else propagates
            if _is_missing(exc):
                return None
            raise
        return Observed(
            status=answer["EndpointStatus"],
            endpoint_config_name=answer.get("EndpointConfigName"),
            failure_reason=answer.get("FailureReason"),
            created_at=answer["CreationTime"].timestamp() if answer.get("CreationTime") else None,
            last_modified_at=answer["LastModifiedTime"].timestamp() if answer.get("LastModifiedTime") else None,
        )

    def create(self, name: str, config_name: str, tags: Mapping[str, str]) -> bool:
        """Create the endpoint; an "already exists" answer means another wake won, which is success.

        Returns True when this call created it."""
        all_tags = {**tags, MANAGED_BY_TAG[0]: MANAGED_BY_TAG[1]}
        try:
            self._sm.create_endpoint(
                EndpointName=name,
                EndpointConfigName=config_name,
                Tags=[{"Key": k, "Value": v} for k, v in sorted(all_tags.items())],
            )
        except Exception as exc:  # noqa: BLE001
            if _already_exists(exc):
                return False
            raise
        return True

    def delete(self, name: str) -> bool:
        """Delete the endpoint (never its configuration or model). Returns False when it was already gone."""
        try:
            self._sm.delete_endpoint(EndpointName=name)
        except Exception as exc:  # noqa: BLE001
            if _is_missing(exc):
                return False
            raise
        return True

    def tags(self, name: str) -> dict[str, str]:
        arn = self._sm.describe_endpoint(EndpointName=name)["EndpointArn"]
        tags: dict[str, str] = {}
        kwargs: dict = {"ResourceArn": arn}
        while True:
            answer = self._sm.list_tags(**kwargs)
            tags.update({t["Key"]: t["Value"] for t in answer.get("Tags", [])})
            if not answer.get("NextToken"):
                return tags
            kwargs["NextToken"] = answer["NextToken"]
