"""Small, named patches that make moto (running in this process) behave as AWS documents, where the project
needs it. Each is one function `shim_<name>()`, listed in SHIMS with why it exists, and tested in
tests/e2e/test_shims.py. None of them decides anything for the project: they fill gaps of the emulator.

    apply_all(hooks)   installs every shim once; `hooks` is the harness (Lambda runtime, state-change events)
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import iam_eval

ACCOUNT = "123456789012"


class Hooks:
    """What the shims call back into: set by the harness before any request is served."""

    invoke_function: Callable[[Any, Any], tuple[str, bool, str]] | None = None  # (LambdaFunction, event)
    endpoint_status_changed: Callable[[str, str, str], None] | None = None  # (endpoint name, arn, status)
    admin_access_key: str | None = None
    held_endpoints: set[str] = set()  # endpoint names kept in Creating until release_endpoint()
    pending_async: list[dict] = []  # InvokeEndpointAsync requests SageMaker has not processed yet
    lock = threading.RLock()


HOOKS = Hooks()
SHIMS: dict[str, str] = {}
_applied = False


def shim(why: str):
    def register(function):
        SHIMS[function.__name__.removeprefix("shim_")] = why
        return function

    return register


# ---------------------------------------------------------------------------------------------------------- SQS


@shim(
    "SQS keeps and returns the RedriveAllowPolicy attribute (moto drops it; the provider waits for it ~3 min "
    "and then fails), and returns RedrivePolicy as compact JSON as SQS does (moto's spaces made the provider "
    "see drift after every apply)."
)
def shim_sqs_redrive_attributes() -> None:
    from moto.sqs.models import Queue

    original = Queue.attributes.fget

    def attributes(self):
        result = original(self)
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        value = getattr(self, "redrive_allow_policy", None)
        if value:
            result["RedriveAllowPolicy"] = value if isinstance(value, str) else json.dumps(value)
        return result

    Queue.attributes = property(attributes)


@shim(
    "Lambda's SQS event source mappings are run by the harness (moto runs enabled ones itself with its stub "
    "Lambda on every SendMessage and deletes the messages): moto no longer registers them on the queue."
)
def shim_lambda_esm_owned_by_harness() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import sqs_backends

    original = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self, spec):
        esm = original(self, spec)
        for queue in sqs_backends[self.account_id][self.region_name].queues.values():
            queue.lambda_event_source_mappings.pop(esm.function_arn, None)
        return esm

    LambdaBackend.create_event_source_mapping = create_event_source_mapping


# ------------------------------------------------------------------------------------------------------- Lambda


@shim(
    "Lambda Invoke runs the deployed handler (moto needs Docker, or echoes the event with use_docker=false): "
    "every invocation, from Invoke, S3 notifications or SNS, goes to the harness's local Lambda runtime."
)
def shim_lambda_invoke_runs_handler() -> None:
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self, event=None):
        if HOOKS.invoke_function is None:
            raise RuntimeError("no Lambda runtime attached to the emulator")
        if isinstance(event, str):
            event = json.loads(event) if event else {}
        return HOOKS.invoke_function(self, event)

    LambdaFunction._invoke_lambda = _invoke_lambda


@shim(
    "GetFunction returns the DeadLetterConfig it was given (moto omits it, so the provider sees drift after "
    "every apply)."
)
def shim_lambda_dead_letter_config() -> None:
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_config = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self, account_id, spec, *args, **kwargs):
        original_init(self, account_id, spec, *args, **kwargs)
        self._shim_dlq = spec.get("DeadLetterConfig")

    def get_configuration(self, *args, **kwargs):
        config = original_config(self, *args, **kwargs)
        if getattr(self, "_shim_dlq", None) and self._shim_dlq.get("TargetArn"):
            config["DeadLetterConfig"] = self._shim_dlq
        return config

    def update_configuration(self, config_updates):
        if "DeadLetterConfig" in config_updates:
            self._shim_dlq = config_updates["DeadLetterConfig"]
        return original_update(self, config_updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration


# ---------------------------------------------------------------------------------------- Application Autoscaling


@shim(
    "Application Auto Scaling answers TagResource, UntagResource and ListTagsForResource, and keeps the Tags "
    "of RegisterScalableTarget (moto has no tag support; the provider then hangs on aws_appautoscaling_target)."
)
def shim_appautoscaling_tags() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    tags: dict[str, dict[str, str]] = {}
    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self):
        answer = original_register(self)
        arn = json.loads(answer).get("ScalableTargetARN") if isinstance(answer, str) else None
        if arn and self._get_param("Tags"):
            tags.setdefault(arn, {}).update(self._get_param("Tags"))
        return answer

    def tag_resource(self):
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        for key in self._get_param("TagKeys") or []:
            tags.get(self._get_param("ResourceARN"), {}).pop(key, None)
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource


# ---------------------------------------------------------------------------------------------------- SageMaker


@shim(
    "A new endpoint is Creating until released (moto makes it InService at once), for the endpoints the "
    "scenario holds; every status change is reported to the harness, which emits SageMaker's "
    "'SageMaker Endpoint State Change' event as AWS does."
)
def shim_sagemaker_endpoint_lifecycle() -> None:
    from moto.sagemaker.models import SageMakerModelBackend

    original_create = SageMakerModelBackend.create_endpoint
    original_delete = SageMakerModelBackend.delete_endpoint

    def create_endpoint(self, endpoint_name, endpoint_config_name, tags):
        endpoint = original_create(self, endpoint_name, endpoint_config_name, tags)
        if endpoint_name in HOOKS.held_endpoints:
            endpoint.endpoint_status = "Creating"
        _changed(endpoint_name, endpoint.arn, endpoint.endpoint_status)
        return endpoint

    def delete_endpoint(self, endpoint_name):
        arn = self.endpoints[endpoint_name].arn if endpoint_name in self.endpoints else None
        original_delete(self, endpoint_name)
        if arn:
            _changed(endpoint_name, arn, "Deleting")

    SageMakerModelBackend.create_endpoint = create_endpoint
    SageMakerModelBackend.delete_endpoint = delete_endpoint


def _changed(name: str, arn: str, status: str) -> None:
    # The harness queues the event and delivers it after the call returns (SageMaker emits asynchronously).
    if HOOKS.endpoint_status_changed:
        HOOKS.endpoint_status_changed(name, arn, status)


def release_endpoint(name: str, region: str = "us-east-1") -> bool:
    """A held endpoint finishes creating: InService, and the state-change event."""
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[ACCOUNT][region]
    endpoint = backend.endpoints.get(name)
    if endpoint is None or endpoint.endpoint_status != "Creating":
        return False
    endpoint.endpoint_status = "InService"
    _changed(name, endpoint.arn, "InService")
    return True


@shim(
    "DescribeModel and DescribeEndpointConfig return what they were created with (EnableNetworkIsolation; "
    "no VpcConfig/DataCaptureConfig when none was given): moto's defaults made the provider see drift after "
    "every apply, and the drift-forced replacement of a model reusing its name deleted the live model."
)
def shim_sagemaker_describe_as_created() -> None:
    from moto.core.responses import ActionResult
    from moto.sagemaker.models import sagemaker_backends
    from moto.sagemaker.responses import SageMakerResponse

    original_create_model = SageMakerResponse.create_model

    def create_model(self):
        answer = original_create_model(self)
        model = sagemaker_backends[self.current_account][self.region]._models[self._get_param("ModelName")]
        model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
        if not model.vpc_config:
            model.vpc_config = None
        return answer

    def describe_endpoint_config(self):
        answer = dict(self.sagemaker_backend.describe_endpoint_config(self._get_param("EndpointConfigName")))
        for key in ("VpcConfig", "DataCaptureConfig", "AsyncInferenceConfig", "KmsKeyId"):
            if not answer.get(key):
                answer.pop(key, None)
        return ActionResult(answer)

    SageMakerResponse.create_model = create_model
    SageMakerResponse.describe_endpoint_config = describe_endpoint_config


@shim(
    "InvokeEndpoint answers only for an existing InService endpoint (ValidationError otherwise, as SageMaker "
    "does; moto answered for any name); the emulated model container answers its input back as JSON."
)
def shim_sagemaker_invoke_endpoint() -> None:
    from moto.sagemaker.models import sagemaker_backends
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    def invoke_endpoint(self):
        from urllib.parse import unquote

        name = unquote(self.path.split("?")[0].split("/")[2])
        endpoint = sagemaker_backends[self.current_account][self.region].endpoints.get(name)
        if endpoint is None:
            return _validation_error(f"Endpoint {name} of account {self.current_account} not found.")
        if endpoint.endpoint_status not in ("InService", "Updating", "SystemUpdating", "RollingBack"):
            return _validation_error(
                f"Endpoint {name} of account {self.current_account} is not in service "
                f"(status {endpoint.endpoint_status})."
            )
        body = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
        try:
            echoed: Any = json.loads(body)
        except ValueError:
            echoed = body
        answer = json.dumps({"endpoint": name, "echo": echoed})
        return 200, {"Content-Type": "application/json", "x-Amzn-Invoked-Production-Variant": "AllTraffic"}, answer

    SageMakerRuntimeResponse.invoke_endpoint = invoke_endpoint


def _validation_error(message: str):
    # Written out (restJson1) rather than raised: moto serialises a raised error by the request's content type,
    # and fails on a form-encoded InvokeEndpoint body (which SageMaker accepts).
    return json.dumps({"message": message, "__type": "ValidationError"}), {
        "status": 400,
        "Content-Type": "application/json",
        "x-amzn-ErrorType": "ValidationError",
    }


@shim(
    "InvokeEndpointAsync queues the request as SageMaker does and, when the harness lets the instance work "
    "(process_async()), writes the result under the endpoint configuration's S3OutputPath (or the error "
    "under S3FailurePath) and publishes the success/error notification to its SNS topics (moto wrote to a "
    'random bucket and notified nobody). The emulated model fails an input containing "fail-me".'
)
def shim_sagemaker_async_inference() -> None:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import sagemaker_backends
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    def invoke_endpoint_async(self):
        name = self.path.split("/")[2]
        backend = sagemaker_backends[self.current_account][self.region]
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise ValidationError(message=f"Endpoint {name} of account {self.current_account} not found.")
        config = backend.describe_endpoint_config(endpoint.endpoint_config_name)
        output = (config.get("AsyncInferenceConfig") or {}).get("OutputConfig") or {}
        if not output:
            raise ValidationError(message=f"Endpoint {name} is not an asynchronous endpoint.")
        inference_id = self.headers.get("X-Amzn-SageMaker-Inference-Id") or str(uuid.uuid4())
        object_id = str(uuid.uuid4())
        output_location = f"{output['S3OutputPath'].rstrip('/')}/{object_id}.out"
        failure_path = output.get("S3FailurePath") or output["S3OutputPath"]
        failure_location = f"{failure_path.rstrip('/')}/{object_id}-error.out"
        with HOOKS.lock:
            HOOKS.pending_async.append(
                {
                    "account": self.current_account,
                    "region": self.region,
                    "endpoint": name,
                    "input": self.headers.get("X-Amzn-SageMaker-InputLocation"),
                    "inference_id": inference_id,
                    "content_type": self.headers.get("X-Amzn-SageMaker-Content-Type") or "application/json",
                    "output": output_location,
                    "failure": failure_location,
                    "notification": output.get("NotificationConfig") or {},
                }
            )
        headers = {
            "X-Amzn-SageMaker-OutputLocation": output_location,
            "X-Amzn-SageMaker-FailureLocation": failure_location,
        }
        return (
            202,
            headers,
            json.dumps(
                {"InferenceId": inference_id, "OutputLocation": output_location, "FailureLocation": failure_location}
            ),
        )

    SageMakerRuntimeResponse.invoke_endpoint_async = invoke_endpoint_async


def process_async() -> int:
    """The async endpoint's instance works through its queue: results to S3, notifications to SNS."""
    from moto.s3.models import s3_backends
    from moto.sns.models import sns_backends

    with HOOKS.lock:
        jobs, HOOKS.pending_async[:] = list(HOOKS.pending_async), []
    for job in jobs:
        s3 = s3_backends[job["account"]]["aws"]
        bucket, _, key = job["input"].removeprefix("s3://").partition("/")
        body = s3.get_object(bucket, key).value.decode()
        failed = "fail-me" in body
        target = job["failure"] if failed else job["output"]
        out_bucket, _, out_key = target.removeprefix("s3://").partition("/")
        try:
            echoed: Any = json.loads(body)
        except ValueError:
            echoed = body
        result = (
            "model error: the input asked to fail"
            if failed
            else json.dumps({"endpoint": job["endpoint"], "echo": echoed})
        )
        s3.put_object(out_bucket, out_key, result.encode())
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        message = {
            "awsRegion": job["region"],
            "eventTime": now,
            "receivedTime": now,
            "invocationStatus": "Failed" if failed else "Completed",
            "requestParameters": {
                "accept": "*/*",
                "contentType": job["content_type"],
                "endpointName": job["endpoint"],
                "inputLocation": job["input"],
            },
            "responseParameters": (
                {"contentType": "text/plain; charset=utf-8", "failureLocation": target}
                if failed
                else {"contentType": "application/json", "outputLocation": target}
            ),
            "inferenceId": job["inference_id"],
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if failed:
            message["failureReason"] = "ClientError: Received server error (500) from model."
        topic = job["notification"].get("ErrorTopic" if failed else "SuccessTopic")
        if topic:
            sns_backends[job["account"]][job["region"]].publish(json.dumps(message), arn=topic)
    return len(jobs)


# ------------------------------------------------------------------------------------------------------- IAM


@shim(
    "IAM authorisation evaluates the caller's policies against the resource the request names, with their "
    "conditions (moto checked every action against '*' so no resource-scoped statement matched, and turned "
    "any statement with a condition it could not evaluate into a deny, even an Allow or a Deny whose "
    "condition is false, such as DenyInsecureTransport). Unknowable condition keys and underived resources "
    "are listed (iam_eval.DECISIONS), never silently allowed. Signatures are checked over the request as sent "
    "(moto recomputed them over its parsed parameters, so every signed Lambda and API Gateway call failed)."
)
def shim_iam_enforcement() -> None:
    from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, PermissionResult

    from . import resources

    def check_action_permitted(self, resource: str) -> None:
        if self._action == "sts:GetCallerIdentity":
            return
        principal = self._access_key.arn
        if HOOKS.admin_access_key and getattr(self._access_key, "_access_key_id", None) == HOOKS.admin_access_key:
            return  # the harness's administrator (Terraform and the harness itself)
        checks = resources.derive(
            self._service,
            self._action,
            self._method,
            self._path,
            self._data,
            self._body,
            self._headers,
            resource,
            self.account_id,
            self._region,
        )
        documents = [_document(p) for p in self._access_key.collect_policies()]
        for action, arns, context in checks:
            if arns is None:
                with iam_eval.DECISIONS.lock:
                    iam_eval.DECISIONS.unresolved.add((principal, action))
            allowed, why, unknown = iam_eval.evaluate(documents, action, arns, context)
            with iam_eval.DECISIONS.lock:
                for key in unknown:
                    iam_eval.DECISIONS.unevaluated.add((principal, action, key))
            if not allowed:
                with iam_eval.DECISIONS.lock:
                    iam_eval.DECISIONS.denied.append((principal, action, ", ".join(arns or ["?"]), why))
                self._raise_access_denied_for(principal, action)

    def _raise_access_denied_for(self, principal, action):
        from moto.core.exceptions import AccessDeniedError
        from moto.iam.access_control import S3IAMRequest

        if isinstance(self, S3IAMRequest):
            self._raise_access_denied()  # S3's own AccessDenied (the harness lists the action)
        raise AccessDeniedError(user_arn=principal, action=action)

    def statement_is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        # Resource policies (bucket policies): conditions evaluated, a false one makes the statement not apply.
        if self.is_unknown_principal(self._statement.get("Principal")):
            return PermissionResult.NEUTRAL
        context = {"aws:SecureTransport": "true"}  # the emulator stands for the TLS endpoint
        context.update(incoming_condition_values or {})
        if not iam_eval.statement_applies(self._statement, action, resource, context, set()):
            return PermissionResult.NEUTRAL
        return PermissionResult.PERMITTED if self._statement.get("Effect") == "Allow" else PermissionResult.DENIED

    def check_signature(self) -> None:
        # moto recomputes the signature over its parsed form of the request: for REST APIs (Lambda, API Gateway)
        # with an empty body it signs its dict of parsed parameters instead of the empty payload, and it drops
        # a trailing "/" of the path, so every signed call failed. The signature is checked against the
        # request as sent (raw body; path as parsed or with its trailing slash).
        from botocore.awsrequest import AWSRequest

        provided = self._get_string_between("Signature=", ",", self._headers["Authorization"])
        signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
        headers = self._create_headers_for_aws_request(signed, self._headers)
        auth = self._create_auth(self._access_key.create_credentials())
        from urllib.parse import parse_qsl, quote, urlencode

        base, _, query = self._path.partition("?")
        encoded_query = urlencode(parse_qsl(query, keep_blank_values=True), quote_via=quote, safe="-_.~")
        # as parsed, with the trailing slash moto dropped, and re-encoded as sent on the wire ("$", ":" in
        # stage names, ARNs and qualifiers: the signer encodes the encoded path once more)
        paths = set()
        for suffix in {("?" + query) if query else "", ("?" + encoded_query) if query else ""}:
            paths |= {base + suffix, base + "/" + suffix, quote(base, safe="/~") + suffix}
        payloads = [self._body or b""] + ([self._data] if self._data and not self._body else [])
        for path in paths:
            for payload in payloads:
                request = AWSRequest(method=self._method, url=path, data=payload, headers=headers)
                request.context["timestamp"] = headers["X-Amz-Date"]
                canonical = auth.canonical_request(request)
                if auth.signature(auth.string_to_sign(request, canonical), request) == provided:
                    return
        content_type = next((v for k, v in self._headers.items() if k.lower() == "content-type"), "")
        if (
            not self._body
            and content_type.startswith("application/x-www-form-urlencoded")
            and "Action" not in (self._data or {})
        ):
            # The server consumed a form-encoded body of a non-query API (e.g. InvokeEndpoint called with that
            # content type): the payload is gone, so the signature cannot be checked. Listed, not hidden.
            with iam_eval.DECISIONS.lock:
                iam_eval.DECISIONS.unresolved.add((self._access_key.arn, f"signature of {self._path} (form body)"))
            return
        if os.environ.get("SLEEPWAKE_E2E_DEBUG_SIGNATURES"):
            print(
                f"signature mismatch: {self._method} {self._path} headers={dict(self._headers)} "
                f"body={self._body[:200]!r}",
                file=sys.stderr,
                flush=True,
            )
        self._raise_signature_does_not_match()

    IAMRequestBase.check_signature = check_signature
    IAMRequestBase.check_action_permitted = check_action_permitted
    IAMRequestBase._raise_access_denied_for = _raise_access_denied_for
    IAMPolicyStatement.is_action_permitted = statement_is_action_permitted


def _document(policy: Any) -> str:
    from moto.iam.models import Policy

    if isinstance(policy, Policy):
        return next(v.document for v in policy.versions if v.is_default)
    if isinstance(policy, str):
        return policy
    return policy["policy_document"]


def apply_all() -> None:
    global _applied
    if _applied:
        return
    for name in SHIMS:
        globals()[f"shim_{name}"]()
    _applied = True
