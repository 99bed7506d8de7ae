"""Shared pieces of the gateway tests: the gateway's AWS resources in moto, HTTP API events, an emulator of what
API Gateway does in front of the handlers (routes, identity source, authorizer and its cache), and a stand-in for
Lambda's SQS poller."""

from __future__ import annotations

import base64
import copy
import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conftest import ENDPOINT, TABLE, load_event
from sleepwake.aws import clients as aws

QUEUE = "sleepwake-test-requests"
DLQ = "sleepwake-test-requests-dlq"
BUCKET = "sleepwake-test-requests"
TOKENS_TABLE = "sleepwake-test-tokens"
MAX_RECEIVE_COUNT = 3
ROUTES = {
    ("POST", "/invoke"),
    ("GET", "/requests/{id}"),
    ("GET", "/status"),
    ("GET", "/lease"),
    ("POST", "/lease"),
    ("DELETE", "/lease"),
}


@dataclass
class Resources:
    queue_url: str
    queue_arn: str
    dlq_url: str
    bucket: str = BUCKET
    tokens_table: str = TOKENS_TABLE


def create_gateway_resources(max_receive_count: int = MAX_RECEIVE_COUNT) -> Resources:
    """What modules/inference-gateway creates besides the functions: queue + DLQ, bucket, tokens table."""
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=QUEUE,
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("s3").create_bucket(Bucket=BUCKET)
    db = aws.client("dynamodb")
    db.create_table(
        TableName=TOKENS_TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return Resources(queue_url, queue_arn, dlq_url)


def gateway_env(resources: Resources, **overrides: str) -> dict[str, str]:
    env = {
        "SLEEPWAKE_GATEWAY_ENDPOINT": ENDPOINT,
        "SLEEPWAKE_REQUEST_QUEUE_URL": resources.queue_url,
        "SLEEPWAKE_REQUEST_BUCKET": resources.bucket,
        "SLEEPWAKE_MAX_LEASE_MINUTES": "120",
        "SLEEPWAKE_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
        "SLEEPWAKE_TOKENS_TABLE": resources.tokens_table,
    }
    env.update(overrides)
    return env


def http_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    *,
    headers: dict | None = None,
    binary: bool = False,
    token_name: str | None = "test-app",
) -> dict:
    """An API Gateway HTTP API (payload 2.0) event, from tests/events/http_invoke.json."""
    event = copy.deepcopy(load_event("http_invoke.json"))
    event["rawPath"] = path
    event["requestContext"]["http"].update(method=method, path=path)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    if headers is not None:
        event["headers"] = {k.lower(): v for k, v in headers.items()}
    if token_name is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"] = {"lambda": {"token_name": token_name}}
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif binary:
        raw = body if isinstance(body, bytes) else body.encode()
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["body"] = body if isinstance(body, str) else body.decode()
        event["isBase64Encoded"] = False
    return event


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def proxy_answer(answer: dict) -> Answer:
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    return Answer(answer["statusCode"], {k.lower(): v for k, v in (answer.get("headers") or {}).items()}, raw)


@dataclass
class HttpApiEmulator:
    """What API Gateway (HTTP API, token auth) does in front of the gateway Lambda, as its documentation says:

    * a path/method without a route: 404 {"message":"Not Found"}, no Lambda runs;
    * identity source `$request.header.Authorization` missing or empty: 401 {"message":"Unauthorized"}, the
      authorizer does not run;
    * authorizer answers isAuthorized=false: 403 {"message":"Forbidden"};
    * authorizer results are cached per identity-source value for the TTL;
    * the authorizer's context reaches the integration as requestContext.authorizer.lambda.
    """

    gateway: Callable[[dict, Any], dict]
    authorizer: Callable[[dict, Any], dict] | None
    now: Callable[[], float]
    ttl_seconds: int = 300
    cache: dict[str, tuple[float, dict]] = field(default_factory=dict)
    authorizer_calls: int = 0

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Answer:
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        route = self._route(method, path)
        if route is None:
            return Answer(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
        context = None
        if self.authorizer is not None:
            identity = headers.get("authorization", "")
            if not identity.strip():
                return Answer(401, {"content-type": "application/json"}, b'{"message":"Unauthorized"}')
            cached = self.cache.get(identity)
            if cached is not None and cached[0] > self.now():
                decision = cached[1]
            else:
                event = copy.deepcopy(load_event("authorizer_request.json"))
                event["identitySource"] = [identity]
                event["headers"] = dict(headers)
                event["routeKey"] = f"{method} {route}"
                event["rawPath"] = path
                self.authorizer_calls += 1
                decision = self.authorizer(event, None)
                if self.ttl_seconds:
                    self.cache[identity] = (self.now() + self.ttl_seconds, decision)
            if not decision.get("isAuthorized"):
                return Answer(403, {"content-type": "application/json"}, b'{"message":"Forbidden"}')
            context = decision.get("context") or {}
        text = headers.get("content-type", "application/json").startswith(("application/json", "text/"))
        event = http_event(method, path, body if body else None, headers=headers, binary=not text, token_name=None)
        event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
        if context is not None:
            event["requestContext"]["authorizer"] = {"lambda": context}
        return proxy_answer(self.gateway(event, None))

    @staticmethod
    def _route(method: str, path: str) -> str | None:
        if (method, path) in ROUTES:
            return path
        if (
            method == "GET"
            and path.startswith("/requests/")
            and "/" not in path[len("/requests/") :]
            and len(path) > len("/requests/")
        ):
            return "/requests/{id}"
        return None


@contextmanager
def serve(emulator: HttpApiEmulator) -> Iterator[str]:
    """The emulator on http://127.0.0.1:<port>, for clients that speak real HTTP."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = emulator.request(self.command, self.path, body, dict(self.headers.items()))
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, *args) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def poll_once(
    resources: Resources, replay: Callable[[dict, Any], dict], *, expire_failed: bool = True, context: Any = None
) -> tuple[int, list[str]]:
    """One poll of Lambda's SQS event source mapping: receive, invoke, delete what succeeded. Failed messages
    stay; with `expire_failed` their backoff is cut to zero, as if it had elapsed. Returns (received, failed)."""
    sqs = aws.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=resources.queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    if not messages:
        return 0, []
    answer = replay(sqs_event(messages, resources.queue_arn), context)
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] in failed:
            if expire_failed:
                sqs.change_message_visibility(
                    QueueUrl=resources.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        else:
            sqs.delete_message(QueueUrl=resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages), sorted(failed)


def queue_depth(url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return sum(int(v) for v in attributes["Attributes"].values())


def set_model_results(*results: tuple[str, str], base_url: str | None = None) -> None:
    """Queue InvokeEndpoint answers in moto (body, content type): in process, or on a moto server."""
    if base_url:
        import urllib.request

        payload = json.dumps(
            {
                "results": [
                    {"Body": b, "ContentType": c, "InvokedProductionVariant": "primary", "CustomAttributes": ""}
                    for b, c in results
                ]
            }
        ).encode()
        request = urllib.request.Request(
            f"{base_url}/moto-api/static/sagemaker/endpoint-results",
            data=payload,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    backend = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.results_queue.extend((b, c, "primary", "") for b, c in results)


def state_items(prefix: str) -> list[dict]:
    from sleepwake.aws.store import from_dynamo

    items = aws.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [from_dynamo(i) for i in items if i["pk"]["S"].startswith(prefix)]


def create_replay_mapping(resources: Resources) -> str:
    """The replay function and its (disabled) event source mapping, as modules/inference-gateway creates them."""
    role = aws.client("iam").create_role(RoleName="sleepwake-test-replay", AssumeRolePolicyDocument="{}")["Role"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("sleepwake/__init__.py", "")
    lam = aws.client("lambda")
    lam.create_function(
        FunctionName="sleepwake-test-replay",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="sleepwake.handlers.replay.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    mapping = lam.create_event_source_mapping(
        EventSourceArn=resources.queue_arn,
        FunctionName="sleepwake-test-replay",
        Enabled=False,
        BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return mapping["UUID"]


# ---- the gateway, replay and authorizer services on the platform's fake clock and simulated lifecycle --------
import pytest  # noqa: E402

from sleepwake.gateway.replay import Replayer  # noqa: E402
from sleepwake.gateway.service import Gateway  # noqa: E402
from sleepwake.gateway.settings import load_gateway_settings  # noqa: E402
from sleepwake.gateway.tokens import TokenAuthorizer, TokenStore  # noqa: E402
from sleepwake.handlers import authorizer as authorizer_entry  # noqa: E402
from sleepwake.handlers import gateway as gateway_entry  # noqa: E402
from sleepwake.handlers import replay as replay_entry  # noqa: E402
from sleepwake_sim.doubles import SimulatedRuntime  # noqa: E402


class Stack:
    """The platform (manager, fake clock, simulated SageMaker) plus the gateway's services, sharing all of it."""

    def __init__(self, platform, resources: Resources, env: dict[str, str]) -> None:
        self.platform = platform
        self.clock = platform.clock
        self.resources = resources
        self.env = env
        self.runtime = SimulatedRuntime(endpoints=platform.endpoints)
        self.rebuild()
        self.tokens = TokenStore(resources.tokens_table)
        self.authorizer = TokenAuthorizer(self.tokens, self.clock)

    def rebuild(self, **overrides: str) -> "Stack":
        env = {**self.env, **overrides}
        self.settings = load_gateway_settings(env, self.platform.settings.endpoints)
        common = dict(
            clock=self.clock, endpoints=self.platform.endpoints, runtime=self.runtime, manager=self.platform.manager
        )
        self.gateway = Gateway.build(self.platform.settings, self.settings, **common)
        self.replayer = Replayer.build(self.platform.settings, self.settings, **common)
        return self

    @property
    def manager(self):
        return self.platform.manager

    def call(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        *,
        headers: dict | None = None,
        token_name: str | None = "test-app",
        binary: bool = False,
    ) -> Answer:
        event = http_event(
            method,
            path,
            body,
            headers=headers if headers is not None else {"content-type": "application/json"},
            binary=binary,
            token_name=token_name,
        )
        return proxy_answer(gateway_entry.handler(event, None))

    def emulator(self, ttl_seconds: int = 300) -> HttpApiEmulator:
        return HttpApiEmulator(gateway_entry.handler, authorizer_entry.handler, self.clock.now, ttl_seconds)

    def poll(self, **kwargs) -> tuple[int, list[str]]:
        return poll_once(self.resources, replay_entry.handler, **kwargs)

    def snapshot(self) -> tuple:
        """Everything a request could change: state table, queue, bucket, SageMaker endpoints."""
        db = aws.client("dynamodb")
        items = sorted(json.dumps(i, sort_keys=True) for i in db.scan(TableName=TABLE)["Items"])
        objects = sorted(o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", []))
        return items, queue_depth(self.resources.queue_url), objects, self.platform.sagemaker_endpoints()


@pytest.fixture
def stack(platform, monkeypatch):
    resources = create_gateway_resources()
    env = gateway_env(resources)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    built = Stack(platform, resources, env)
    monkeypatch.setattr(gateway_entry, "_gateway", lambda: built.gateway)
    monkeypatch.setattr(replay_entry, "_replayer", lambda: built.replayer)
    monkeypatch.setattr(authorizer_entry, "_authorizer", lambda: built.authorizer)
    return built
