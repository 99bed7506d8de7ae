"""The resource ARN(s) and condition context of one request, for the `iam_enforcement` shim.

derive(...) -> [(iam action, [resource arn, ...] | None, context)]; None = the resource could not be derived
(only the action is checked, and the harness lists it). One request may need several checks, as in AWS:
CreateEndpoint with tags is also authorised as sagemaker:AddTags (sagemaker:TaggingAction = CreateEndpoint).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

# Signing names whose IAM prefix differs.
SERVICE_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag", "execute-api": "execute-api"}
GLOBAL_ACTIONS = {  # actions whose only resource is "*"
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricStatistics",
    "tag:GetResources",
    "sagemaker:ListEndpoints",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "sqs:ListQueues",
    "sns:ListTopics",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListModels",
}


def _json(body: Any) -> dict:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body.strip().startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            return {}
    return {}


def _params(data: Any, body: Any, path: str) -> dict:
    params: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            params[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
    params.update(_json(body))
    if isinstance(body, (bytes, str)) and not params:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if "=" in text and not text.strip().startswith(("{", "<")):
            params.update({k: v[0] for k, v in parse_qs(text).items()})
    query = urlparse(path).query
    params.update({k: v[0] for k, v in parse_qs(query).items() if k not in params})
    return params


def _attribute_value(value: dict) -> str:
    return next(iter(value.values())) if isinstance(value, dict) and value else str(value)


def derive(
    service: str,
    action: str,
    method: str,
    path: str,
    data: Any,
    body: Any,
    headers: Any,
    moto_resource: str,
    account: str,
    region: str,
) -> list[tuple[str, list[str] | None, dict]]:
    prefix, _, name = action.partition(":")
    prefix = SERVICE_PREFIX.get(prefix, prefix)
    action = f"{prefix}:{name}"
    context: dict[str, Any] = {"aws:SecureTransport": "true"}
    if action in GLOBAL_ACTIONS:
        return [(action, ["*"], context)]
    params = _params(data, body, path)
    arn = f"arn:aws:{prefix}:{region}:{account}"

    if prefix == "s3":
        bucket_key = moto_resource
        context["s3:prefix"] = params.get("prefix", "")
        return [(action, [bucket_key] if bucket_key and bucket_key != "arn:aws:s3:::*" else None, context)]

    if prefix == "dynamodb":
        tables = []
        if "TableName" in params:
            tables.append(params["TableName"])
        for key in ("RequestItems", "TransactItems"):
            items = params.get(key)
            if isinstance(items, dict):
                tables += list(items)
            elif isinstance(items, list):
                for item in items:
                    for operation in item.values():
                        tables.append(operation.get("TableName"))
        leading = []
        requests = [params] + [operation for item in params.get("TransactItems") or [] for operation in item.values()]
        for request in requests:
            hash_key = _hash_key(request.get("TableName") or (tables[0] if tables else ""), account, region)
            for source in (request.get("Key"), request.get("Item")):
                if isinstance(source, dict) and hash_key in source:
                    leading.append(_attribute_value(source[hash_key]))
        if "KeyConditionExpression" in params:
            names = params.get("ExpressionAttributeNames") or {}
            values = params.get("ExpressionAttributeValues") or {}
            hash_key = _hash_key(params.get("TableName", ""), account, region)
            for name, value in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]):
                if names.get(name, name) == hash_key and value in values:
                    leading.append(_attribute_value(values[value]))
        if leading:
            context["dynamodb:LeadingKeys"] = leading
        attributes = list((params.get("Item") or {}).keys())
        if attributes:
            context["dynamodb:Attributes"] = attributes
        return [(action, [f"{arn}:table/{t}" for t in tables] if tables else None, context)]

    if prefix == "sagemaker":
        match = re.match(r"^/endpoints/([^/]+)/(async-)?invocations", urlparse(path).path)
        if match:
            return [(action, [f"{arn}:endpoint/{unquote(match.group(1)).lower()}"], context)]
        checks = []
        for field, kind in (
            ("EndpointName", "endpoint"),
            ("EndpointConfigName", "endpoint-config"),
            ("ModelName", "model"),
        ):
            if field in params and (action == "sagemaker:CreateEndpoint" or field == _primary(action)):
                checks.append(f"{arn}:{kind}/{str(params[field]).lower()}")
        if "ResourceArn" in params:
            checks.append(params["ResourceArn"])
        tags = params.get("Tags") or []
        if tags:
            context.update({f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags})
            context["aws:TagKeys"] = [t["Key"] for t in tags]
        if "ResourceArn" in params or "EndpointName" in params:
            context.update(
                _sagemaker_resource_tags(
                    params.get("ResourceArn") or f"{arn}:endpoint/{str(params['EndpointName']).lower()}",
                    account,
                    region,
                )
            )
        result = [(action, checks or None, context)]
        if action == "sagemaker:CreateEndpoint" and tags:
            tagging = dict(context, **{"sagemaker:TaggingAction": "CreateEndpoint"})
            result.append(("sagemaker:AddTags", [checks[0]], tagging))
        return result

    if prefix == "sqs":
        url = params.get("QueueUrl") or ""
        queue = url.rstrip("/").split("/")[-1] if url else params.get("QueueName")
        return [(action, [f"{arn}:{queue}"] if queue else None, context)]

    if prefix == "sns":
        topic = params.get("TopicArn") or params.get("TargetArn")
        return [(action, [topic] if topic else None, context)]

    if prefix == "lambda":
        match = re.search(r"/functions/([^/]+)", urlparse(path).path)
        if match:
            function = unquote(match.group(1))
            if not function.startswith("arn:"):
                function = f"{arn}:function:{function}"
            return [(action, [function], context)]
        match = re.search(r"/event-source-mappings/([^/?]+)", urlparse(path).path)
        if match:
            return [(action, [f"{arn}:event-source-mapping:{match.group(1)}"], context)]
        return [(action, None, context)]

    if prefix == "events":
        rule = params.get("Rule") or params.get("Name")
        if action == "events:PutEvents":
            buses = {e.get("EventBusName") or "default" for e in params.get("Entries") or []}
            return [(action, [f"{arn}:event-bus/{b}" for b in sorted(buses)] or None, context)]
        return [(action, [f"{arn}:rule/{rule}"] if rule else None, context)]

    if prefix == "logs":
        group = params.get("logGroupName")
        stream = params.get("logStreamName")
        if group:
            target = f"{arn}:log-group:{group}" + (f":log-stream:{stream}" if stream else ":*")
            return [(action, [target], context)]
        return [(action, None, context)]

    if prefix == "cloudwatch":
        if "Namespace" in params:
            context["cloudwatch:namespace"] = params["Namespace"]
        alarms = params.get("AlarmNames") or params.get("AlarmName")
        if alarms:
            alarms = alarms if isinstance(alarms, list) else [alarms]
            return [(action, [f"{arn}:alarm:{a}" for a in alarms], context)]
        return [(action, ["*"], context)]

    if prefix == "sts" and action == "sts:AssumeRole":
        return [(action, [params.get("RoleArn")], context)]

    return [(action, None, context)]


def _primary(action: str) -> str:
    if "EndpointConfig" in action:
        return "EndpointConfigName"
    if "Endpoint" in action:
        return "EndpointName"
    if "Model" in action:
        return "ModelName"
    return ""


def _sagemaker_resource_tags(resource_arn: str, account: str, region: str) -> dict[str, str]:
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[account][region]
    for endpoint in backend.endpoints.values():
        if endpoint.arn.lower() == resource_arn.lower():
            return {f"aws:ResourceTag/{t['Key']}": t["Value"] for t in endpoint.tags}
    return {}


def _hash_key(table: str, account: str, region: str) -> str:
    from moto.dynamodb.models import dynamodb_backends

    try:
        return dynamodb_backends[account][region].get_table(table).hash_key_attr
    except Exception:
        return "pk"
