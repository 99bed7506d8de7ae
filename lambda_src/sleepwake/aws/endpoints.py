"""SageMaker endpoint operations, behind a small adapter the manager and the tests share."""

from __future__ import annotations

from collections.abc import Mapping

from sleepwake.aws import clients as aws
from sleepwake.domain.lifecycle import Observed

MANAGED_BY_TAG = ("managed-by", "sagemaker-sleepwake")


def _is_missing(exc: Exception) -> bool:
    return aws.error_code(exc) == "ValidationException" and "could not find" in aws.error_message(exc).lower()


def _already_exists(exc: Exception) -> bool:
    message = aws.error_message(exc).lower()
    return aws.error_code(exc) in ("ValidationException", "ResourceInUse") and (
        "already exist" in message or "already in use" in message
    )


def _observed(answer: Mapping) -> Observed:
    return Observed(
        status=answer["EndpointStatus"],
        endpoint_config_name=answer.get("EndpointConfigName"),
        failure_reason=answer.get("FailureReason"),
        created_at=answer["CreationTime"].timestamp() if answer.get("CreationTime") else None,
        last_modified_at=answer["LastModifiedTime"].timestamp() if answer.get("LastModifiedTime") else None,
    )


class SageMakerEndpoints:
    @property
    def _sm(self):
        return aws.client("sagemaker")

    def describe(self, name: str) -> Observed | None:
        try:
            answer = self._sm.describe_endpoint(EndpointName=name)
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise
        return _observed(answer)

    def list_all(self) -> dict[str, Observed]:
        """Every endpoint of the account and region with its status: ListEndpoints, 100 a page.

        One call per hundred endpoints replaces a DescribeEndpoint per endpoint on every tick (no configuration
        name or failure reason here; the manager describes an endpoint singly when it needs those)."""
        found: dict[str, Observed] = {}
        for page in self._sm.get_paginator("list_endpoints").paginate(PaginationConfig={"PageSize": 100}):
            for summary in page.get("Endpoints", []):
                found[summary["EndpointName"]] = _observed(summary)
        return found

    def instance_of(self, config_name: str) -> tuple[str, int] | None:
        """(instance type, total instance count) of a configuration's instance variants; None if serverless."""
        answer = self._sm.describe_endpoint_config(EndpointConfigName=config_name)
        variants = [v for v in answer.get("ProductionVariants", []) if v.get("InstanceType")]
        if not variants:
            return None
        return variants[0]["InstanceType"], sum(int(v.get("InitialInstanceCount", 1)) for v in variants)

    def create(self, name: str, config_name: str, tags: Mapping[str, str], *, mark_managed: bool = True) -> bool:
        """Create the endpoint; an "already exists" answer means another wake won, which is success.

        Returns True when this call created it."""
        all_tags = {**tags, MANAGED_BY_TAG[0]: MANAGED_BY_TAG[1]} if mark_managed else dict(tags)
        try:
            self._sm.create_endpoint(
                EndpointName=name,
                EndpointConfigName=config_name,
                Tags=[{"Key": k, "Value": v} for k, v in sorted(all_tags.items())],
            )
        except Exception as exc:
            if _already_exists(exc):
                return False
            raise
        return True

    def delete(self, name: str) -> bool:
        """Delete the endpoint (never its configuration or model). Returns False when it was already gone."""
        try:
            self._sm.delete_endpoint(EndpointName=name)
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def tags(self, name: str) -> dict[str, str]:
        try:
            arn = self._sm.describe_endpoint(EndpointName=name)["EndpointArn"]
        except Exception as exc:
            if _is_missing(exc):
                return {}
            raise
        tags: dict[str, str] = {}
        kwargs: dict = {"ResourceArn": arn}
        while True:
            answer = self._sm.list_tags(**kwargs)
            tags.update({t["Key"]: t["Value"] for t in answer.get("Tags", [])})
            if not answer.get("NextToken"):
                return tags
            kwargs["NextToken"] = answer["NextToken"]
