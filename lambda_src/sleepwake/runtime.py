"""SageMaker runtime calls (InvokeEndpoint) behind a small adapter, with every failure classified.

The gateway invokes first and asks questions only on failure: an InService endpoint costs one runtime call per
request and no control-plane call (DescribeEndpoint has low rate limits). When SageMaker rejects the call with a
`ValidationError` (what it answers for an endpoint that does not exist or is not InService), one DescribeEndpoint
tells "asleep or waking" (`EndpointUnavailable`: wake it, answer 503) from "bad request" (`RequestRejected`: 400).
The same path covers the race of an endpoint deleted between an earlier check and the call.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass, field

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from . import aws
from .core import SERVING_STATUSES
from .endpoints import SageMakerEndpoints

MODEL_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class InvokeResult:
    body: bytes
    content_type: str
    invoked_variant: str | None = None


class InvokeError(Exception):
    """Base of every classified InvokeEndpoint failure."""


class EndpointUnavailable(InvokeError):
    """The endpoint does not exist or is not serving: wake it and ask the caller to come back."""

    def __init__(self, status: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class RequestRejected(InvokeError):
    """SageMaker refused the request itself (the endpoint is serving): the caller's fault, 400."""


class ModelFailed(InvokeError):
    """The model container answered with an error (SageMaker's ModelError)."""

    def __init__(self, message: str, original_status_code: int | None, original_message: str | None) -> None:
        super().__init__(message)
        self.original_status_code = original_status_code
        self.original_message = original_message

    @property
    def client_error(self) -> bool:
        """The container said the input is bad (4xx): retrying the same input cannot help."""
        return self.original_status_code is not None and 400 <= self.original_status_code < 500


class Busy(InvokeError):
    """Throttled or momentarily unavailable while serving: retry shortly."""

    def __init__(self, message: str, status_code: int, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_seconds = retry_after_seconds


class InvokeTimeout(InvokeError):
    """No answer within the configured time; the model may still be working on it."""


@functools.lru_cache(maxsize=None)
def _client(region: str | None, endpoint_url: str | None, read_timeout: int):
    # One attempt: a retried inference doubles GPU work, and every failure is classified and answered above.
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3,
                    read_timeout=read_timeout, user_agent_extra="sagemaker-sleepwake")
    return boto3.session.Session().client("sagemaker-runtime", region_name=region, endpoint_url=endpoint_url,
                                          config=config)


def runtime_client(read_timeout: int):
    """Cached like `aws.client`, with the read timeout the caller can afford (the gateway < API Gateway's 30 s)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _client(region, os.environ.get("AWS_ENDPOINT_URL") or None, int(read_timeout))


def reset_clients() -> None:
    _client.cache_clear()


class EndpointRuntime:
    def __init__(self, endpoints: SageMakerEndpoints, *, read_timeout_seconds: int = 25) -> None:
        self.endpoints = endpoints
        self.read_timeout_seconds = read_timeout_seconds

    def _call(self, **kwargs):
        return runtime_client(self.read_timeout_seconds).invoke_endpoint(**kwargs)

    def invoke(self, name: str, body: bytes, content_type: str, accept: str | None = None) -> InvokeResult:
        kwargs = {"EndpointName": name, "Body": body, "ContentType": content_type}
        if accept:
            kwargs["Accept"] = accept
        try:
            answer = self._call(**kwargs)
        except (ReadTimeoutError, ConnectionError) as exc:
            if isinstance(exc, ReadTimeoutError):
                raise InvokeTimeout(f"the model did not answer within {self.read_timeout_seconds} s") from exc
            raise Busy(f"could not reach SageMaker: {exc}", 503, 5) from exc
        except ClientError as exc:
            raise self._classify(name, exc) from exc
        return InvokeResult(answer["Body"].read(), answer.get("ContentType") or "application/octet-stream",
                            answer.get("InvokedProductionVariant"))

    def _classify(self, name: str, exc: ClientError) -> InvokeError:
        code, message = aws.error_code(exc), aws.error_message(exc)
        if code == "ModelError":
            error = exc.response.get("Error", {})
            original = exc.response.get("OriginalStatusCode", error.get("OriginalStatusCode"))
            original_message = exc.response.get("OriginalMessage", error.get("OriginalMessage"))
            try:
                status = int(original) if original is not None else None
            except (TypeError, ValueError):
                status = None
            return ModelFailed(message, status, (original_message or "")[:MODEL_MESSAGE_CHARS] or None)
        if code in ("ValidationError", "ValidationException"):
            observed = self.endpoints.describe(name)
            status = observed.status if observed else None
            if status not in SERVING_STATUSES:
                return EndpointUnavailable(status, f"endpoint {name} is {status or 'absent'}")
            return RequestRejected(message)
        if code in ("ThrottlingException", "TooManyRequestsException"):
            return Busy(f"SageMaker throttled the call: {message}", 429, 1)
        if code in ("ServiceUnavailable", "ModelNotReadyException", "InternalDependencyException",
                    "InternalFailure", "InternalStreamFailure"):
            return Busy(f"SageMaker is momentarily unavailable ({code}): {message}", 503, 5)
        return InvokeError(f"{code or 'error'}: {message}")


@dataclass
class SimulatedRuntime(EndpointRuntime):
    """For the demo and tests: the emulator answers InvokeEndpoint whatever the endpoint's state, so this asks the
    simulated lifecycle first and answers as SageMaker does for an endpoint that is absent or still Creating.
    `fail_next` makes the next calls fail like a crashing container."""

    endpoints: SageMakerEndpoints = None  # type: ignore[assignment]
    read_timeout_seconds: int = 25
    account: str = "123456789012"
    calls: list[str] = field(default_factory=list)
    _failures: list[ClientError] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, times: int = 1, *, status: int = 500, message: str = "CUDA error: out of memory") -> None:
        error = ClientError({"Error": {"Code": "ModelError", "Message": f"Received server error ({status}) from "
                                       f"primary with message \"{message}\"."},
                             "OriginalStatusCode": status, "OriginalMessage": message}, "InvokeEndpoint")
        self._failures.extend([error] * times)

    def _call(self, **kwargs):
        name = kwargs["EndpointName"]
        with self._lock:
            self.calls.append(name)
            failure = self._failures.pop(0) if self._failures else None
        observed = self.endpoints.describe(name)
        if observed is None or observed.status not in SERVING_STATUSES:
            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Endpoint {name} of account {self.account} not found."}},
                              "InvokeEndpoint")
        if failure is not None:
            raise failure
        return super()._call(**kwargs)
