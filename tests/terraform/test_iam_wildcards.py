"""A `"*"` resource in any module's IAM policy is allowed only for actions that have no resource-level
permissions (the Service Authorization Reference lists no resource type for them, so "*" is the only resource they
accept). Any other action on "*" is a least-privilege defect, whatever comment stands next to it."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
OPTIONS = SerializationOptions(explicit_blocks=True, strip_string_quotes=True, with_comments=False)
# Actions for which AWS defines no resource type (Service Authorization Reference, "Resource types" column empty).
NO_RESOURCE_TYPE = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sagemaker:ListEndpoints",
        "cloudwatch:GetMetricData",
        "cloudwatch:ListMetrics",
        "cloudwatch:PutMetricData",
        "tag:GetResources",
        "ecr:GetAuthorizationToken",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    }
)


def statements(text: str) -> list[tuple[str, dict]]:
    """Every statement of every aws_iam_policy_document in a file, those of dynamic blocks included."""
    found = []
    for data in hcl2.loads(text, serialization_options=OPTIONS).get("data", []):
        for name, body in data.get("aws_iam_policy_document", {}).items():
            found += [(name, s) for s in body.get("statement", [])]
            for dynamic in body.get("dynamic", []):
                found += [(name, s) for s in dynamic.get("statement", {}).get("content", [])]
    return found


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def wildcard_violations(text: str) -> list[str]:
    problems = []
    for name, statement in statements(text):
        if "*" in as_list(statement.get("resources", [])):
            wrong = sorted(set(as_list(statement.get("actions", []))) - NO_RESOURCE_TYPE)
            problems += [f"{name}: {action} on *" for action in wrong]
        if statement.get("not_resources") or statement.get("not_actions"):
            problems.append(f"{name}: not_resources/not_actions grant everything else")
    return problems


@pytest.mark.parametrize("path", sorted(REPO.glob("modules/*/*.tf")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_wildcard_resources_only_for_actions_without_a_resource_type(path):
    assert wildcard_violations(path.read_text()) == []


def test_the_rule_sees_the_wildcards_the_modules_have():
    seen = [s for p in REPO.glob("modules/*/*.tf") for _, s in statements(p.read_text())]
    assert sum("*" in as_list(s.get("resources", [])) for s in seen) >= 10


def test_an_action_with_a_resource_type_on_a_wildcard_fails_even_with_a_reason_above_it():
    text = """
data "aws_iam_policy_document" "x" {
  statement {
    actions   = ["sagemaker:ListEndpoints"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = [1]
    content {
      # a reason does not make it least privilege
      actions   = ["sagemaker:DeleteEndpoint", "xray:PutTraceSegments"]
      resources = ["*"]
    }
  }
}
"""
    assert wildcard_violations(text) == ["x: sagemaker:DeleteEndpoint on *"]
