"""Events follow the deployed wiring, read back from the emulator at each delivery:

- EventBridge rules and targets (event patterns, and `rate(...)` schedules driven by the virtual clock), the
  target function's resource policy checked for events.amazonaws.com and the rule's ARN;
- SageMaker's "SageMaker Endpoint State Change" events, queued by the endpoint lifecycle shim and delivered to the
  matching rules by drain();
- Lambda's SQS event source mappings (the harness is the poller: only while the mapping is Enabled);
- the HTTP API: routes, the REQUEST authorizer (identity sources, simple responses, result cache TTL) and the
  AWS_PROXY integration (payload format 2.0), with the functions' apigateway.amazonaws.com permissions;
- S3 notifications and SNS subscriptions are delivered by moto itself from their deployed configuration, into
  the local runtime (shim lambda_invoke_runs_handler).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .emulator import ACCOUNT, REGION

STATUS_WORDS = {
    "InService": "IN_SERVICE",
    "Creating": "CREATING",
    "Deleting": "DELETING",
    "Failed": "FAILED",
    "Updating": "UPDATING",
    "OutOfService": "OUT_OF_SERVICE",
    "SystemUpdating": "SYSTEM_UPDATING",
    "RollingBack": "ROLLING_BACK",
}


def pattern_matches(pattern: Any, event: Any) -> bool:
    """EventBridge content filtering: the subset the modules use (exact values, prefix, exists, nesting)."""
    if isinstance(pattern, dict):
        if not isinstance(event, dict):
            return False
        return all(pattern_matches(value, event.get(key)) for key, value in pattern.items())
    if isinstance(pattern, list):
        values = event if isinstance(event, list) else [event]
        for candidate in pattern:
            if isinstance(candidate, dict):
                if "prefix" in candidate and any(
                    isinstance(v, str) and v.startswith(candidate["prefix"]) for v in values
                ):
                    return True
                if "exists" in candidate and (event is not None) == candidate["exists"]:
                    return True
            elif candidate in values:
                return True
        return False
    return pattern == event


def _rate_seconds(expression: str) -> int | None:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression or "")
    if not match:
        return None
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]


@dataclass
class HttpResponse:
    status: int
    headers: dict
    body: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Wiring:
    emulator: Any
    runtime: Any
    pending_events: list = field(default_factory=list)
    delivered: list = field(default_factory=list)  # (source, target function, ok)
    problems: list = field(default_factory=list)
    _last_fired: dict = field(default_factory=dict)
    _auth_cache: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ clock
    def now(self) -> float:
        return time.time() + self.runtime.clock_offset

    def advance(self, seconds: float) -> None:
        self.runtime.clock_offset += seconds

    # ------------------------------------------------------------------ Lambda
    def invoke(
        self, function_arn: str, event: dict, *, principal: str | None = None, source_arn: str | None = None
    ) -> tuple[bool, Any]:
        """Invoke through the emulator's Lambda API (so the runtime shim runs the handler), after checking the
        function's resource policy when a service principal invokes it."""
        client = self.emulator.client("lambda")
        if principal and not self.permitted(function_arn, principal, source_arn):
            self.problems.append(f"{principal} may not invoke {function_arn} for {source_arn}: no permission")
            return False, {"errorMessage": "no lambda permission"}
        answer = client.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        ok = not answer.get("FunctionError")
        self.delivered.append((principal or "harness", function_arn.split(":")[-1], ok))
        return ok, payload

    def permitted(self, function_arn: str, principal: str, source_arn: str | None) -> bool:
        try:
            policy = json.loads(self.emulator.client("lambda").get_policy(FunctionName=function_arn)["Policy"])
        except Exception:
            return False
        for statement in policy.get("Statement", []):
            who = statement.get("Principal", {})
            who = who.get("Service") if isinstance(who, dict) else who
            if who != principal or statement.get("Effect") != "Allow":
                continue
            condition = (statement.get("Condition") or {}).get("ArnLike", {}).get("AWS:SourceArn")
            if condition is None or source_arn is None or fnmatch.fnmatchcase(source_arn, condition):
                return True
        return False

    # ------------------------------------------------------------------ EventBridge
    def rules(self) -> list[dict]:
        events = self.emulator.client("events")
        rules = events.list_rules()["Rules"]
        for rule in rules:
            rule["Targets"] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        return rules

    def put_event(self, event: dict) -> list[tuple[str, bool, Any]]:
        results = []
        for rule in self.rules():
            if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
                continue
            if not pattern_matches(json.loads(rule["EventPattern"]), event):
                continue
            for target in rule["Targets"]:
                payload = json.loads(target["Input"]) if target.get("Input") else event
                ok, answer = self.invoke(
                    target["Arn"], payload, principal="events.amazonaws.com", source_arn=rule["Arn"]
                )
                results.append((target["Arn"].split(":")[-1], ok, answer))
        return results

    def endpoint_status_changed(self, name: str, arn: str, status: str) -> None:
        """Hook of the endpoint lifecycle shim (a moto request thread): queue SageMaker's event."""
        from moto.sagemaker.models import sagemaker_backends

        endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints.get(name)
        tags = {t["Key"]: t["Value"] for t in (endpoint.tags if endpoint else [])}
        config = endpoint.endpoint_config_name if endpoint else None
        self.pending_events.append(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "SageMaker Endpoint State Change",
                "source": "aws.sagemaker",
                "account": ACCOUNT,
                "region": REGION,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now())),
                "resources": [arn],
                "detail": {
                    "EndpointName": name,
                    "EndpointArn": arn,
                    "EndpointConfigName": config,
                    "EndpointStatus": STATUS_WORDS.get(status, status.upper()),
                    "CreationTime": int(self.now() * 1000),
                    "LastModifiedTime": int(self.now() * 1000),
                    "Tags": tags,
                },
            }
        )

    def drain(self) -> list[tuple[str, bool, Any]]:
        """Deliver queued SageMaker events, then let the SQS mappings poll, until nothing is left."""
        results = []
        for _ in range(20):
            if not self.pending_events:
                break
            event = self.pending_events.pop(0)
            results += self.put_event(event)
        results += self.poll_queues()
        return results

    def tick(self, minutes: int = 1, advance: bool = True) -> list[tuple[str, bool, Any]]:
        """The virtual clock moves `minutes` minutes (advance=False: real time has); `rate(...)` rules fire when
        due."""
        results = []
        for _ in range(minutes):
            if advance:
                self.advance(60)
            for rule in self.rules():
                period = _rate_seconds(rule.get("ScheduleExpression", ""))
                if period is None or rule.get("State") != "ENABLED":
                    continue
                last = self._last_fired.get(rule["Arn"])
                if last is not None and self.now() - last < period - 1:
                    continue
                self._last_fired[rule["Arn"]] = self.now()
                event = {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": ACCOUNT,
                    "region": REGION,
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now())),
                    "resources": [rule["Arn"]],
                    "detail": {},
                }
                for target in rule["Targets"]:
                    payload = json.loads(target["Input"]) if target.get("Input") else event
                    ok, answer = self.invoke(
                        target["Arn"], payload, principal="events.amazonaws.com", source_arn=rule["Arn"]
                    )
                    results.append((target["Arn"].split(":")[-1], ok, answer))
            results += self.drain()
        return results

    # ------------------------------------------------------------------ SQS event source mappings
    def poll_queues(self) -> list[tuple[str, bool, Any]]:
        lam, sqs = self.emulator.client("lambda"), self.emulator.client("sqs")
        results = []
        for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
            if mapping.get("State") != "Enabled" or ":sqs:" not in mapping["EventSourceArn"]:
                continue
            queue_url = sqs.get_queue_url(QueueName=mapping["EventSourceArn"].split(":")[-1])["QueueUrl"]
            for _ in range(10):
                messages = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=min(10, mapping["BatchSize"]),
                    WaitTimeSeconds=0,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not messages:
                    break
                event = {
                    "Records": [
                        {
                            "messageId": m["MessageId"],
                            "receiptHandle": m["ReceiptHandle"],
                            "body": m["Body"],
                            "attributes": m.get("Attributes", {}),
                            "messageAttributes": m.get("MessageAttributes", {}),
                            "md5OfBody": m["MD5OfBody"],
                            "eventSource": "aws:sqs",
                            "eventSourceARN": mapping["EventSourceArn"],
                            "awsRegion": REGION,
                        }
                        for m in messages
                    ]
                }
                ok, answer = self.invoke(mapping["FunctionArn"], event)
                results.append((mapping["FunctionArn"].split(":")[-1], ok, answer))
                failed = set()
                if not ok:
                    failed = {m["MessageId"] for m in messages}
                elif "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []) and isinstance(
                    answer, dict
                ):
                    failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures") or []}
                for m in messages:
                    if m["MessageId"] not in failed:
                        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
                if failed:
                    break  # the rest become visible again after the visibility timeout, as in AWS
                # the mapping may have been switched off by what was just delivered
                state = lam.get_event_source_mapping(UUID=mapping["UUID"])["State"]
                if state != "Enabled":
                    break
        return results

    # ------------------------------------------------------------------ HTTP API
    def http(
        self, api_url: str, method: str, path: str, headers: dict | None = None, body: str | None = None
    ) -> HttpResponse:
        api_id = re.match(r"https?://([^.]+)\.", api_url).group(1)
        apigw = self.emulator.client("apigatewayv2")
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        route, params = None, {}
        for candidate in apigw.get_routes(ApiId=api_id)["Items"]:
            route_method, _, route_path = candidate["RouteKey"].partition(" ")
            regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route_path) + "$"
            match = re.match(regex, path.split("?")[0])
            if route_method == method and match:
                route, params = candidate, match.groupdict()
                break
        if route is None:
            return HttpResponse(404, {}, json.dumps({"message": "Not Found"}))
        request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
        context: dict[str, Any] = {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": f"{api_id}.execute-api.{REGION}.amazonaws.com",
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path.split("?")[0],
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "sleepwake-e2e",
            },
            "requestId": request_id,
            "routeKey": route["RouteKey"],
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.now())),
            "timeEpoch": int(self.now() * 1000),
        }
        execution_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}"
        route_arn = f"{execution_arn}/$default/{method}{path.split('?')[0]}"
        if route.get("AuthorizationType") == "CUSTOM":
            authorizer = apigw.get_authorizer(ApiId=api_id, AuthorizerId=route["AuthorizerId"])
            sources = [headers.get(s.split(".")[-1].lower()) for s in authorizer.get("IdentitySource", [])]
            if not all(sources):
                return HttpResponse(401, {}, json.dumps({"message": "Unauthorized"}))
            cache_key = (authorizer["AuthorizerId"], tuple(sources))
            cached = self._auth_cache.get(cache_key)
            ttl = authorizer.get("AuthorizerResultTtlInSeconds", 0)
            if cached and self.now() - cached[0] < ttl:
                decision = cached[1]
            else:
                event = {
                    "version": "2.0",
                    "type": "REQUEST",
                    "routeArn": route_arn,
                    "identitySource": sources,
                    "routeKey": route["RouteKey"],
                    "rawPath": path.split("?")[0],
                    "rawQueryString": path.partition("?")[2],
                    "headers": headers,
                    "requestContext": context,
                    "pathParameters": params,
                }
                function = _function_of(authorizer["AuthorizerUri"])
                ok, decision = self.invoke(
                    function,
                    event,
                    principal="apigateway.amazonaws.com",
                    source_arn=f"{execution_arn}/authorizers/{authorizer['AuthorizerId']}",
                )
                if not ok:
                    return HttpResponse(500, {}, json.dumps({"message": "Internal Server Error"}))
                if ttl:
                    self._auth_cache[cache_key] = (self.now(), decision)
            if not (isinstance(decision, dict) and decision.get("isAuthorized")):
                return HttpResponse(403, {}, json.dumps({"message": "Forbidden"}))
            context["authorizer"] = {"lambda": decision.get("context") or {}}
        elif route.get("AuthorizationType") == "AWS_IAM":
            self.problems.append("AWS_IAM routes are not emulated (SigV4 of execute-api)")
            return HttpResponse(501, {}, "{}")
        integration_id = route["Target"].split("/")[-1]
        integration = apigw.get_integration(ApiId=api_id, IntegrationId=integration_id)
        event = {
            "version": "2.0",
            "routeKey": route["RouteKey"],
            "rawPath": path.split("?")[0],
            "rawQueryString": path.partition("?")[2],
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if params:
            event["pathParameters"] = params
        if body is not None:
            event["body"] = body
        ok, answer = self.invoke(
            _function_of(integration["IntegrationUri"]),
            event,
            principal="apigateway.amazonaws.com",
            source_arn=route_arn,
        )
        if not ok:
            return HttpResponse(500, {}, json.dumps({"message": "Internal Server Error"}))
        if isinstance(answer, dict) and "statusCode" in answer:
            text = answer.get("body") or ""
            if answer.get("isBase64Encoded"):
                text = base64.b64decode(text).decode()
            return HttpResponse(
                int(answer["statusCode"]), {k.lower(): v for k, v in (answer.get("headers") or {}).items()}, text
            )
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(answer))


def _function_of(uri: str) -> str:
    """The function ARN inside an API Gateway Lambda integration URI (or the ARN itself)."""
    match = re.search(r"functions/(arn:[^/]+)/invocations", uri)
    return match.group(1) if match else uri
