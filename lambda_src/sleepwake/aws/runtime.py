"""SageMaker runtime calls (InvokeEndpoint) behind a small adapter, with every failure classified.

The gateway invokes first and asks questions only on failure: an InService endpoint costs one runtime call per
request and no control-plane call (DescribeEndpoint has low rate limits). When SageMaker rejects the call with a
`ValidationError` (what it answers for an endpoint that does not exist or is not InService), one DescribeEndpoint
tells "asleep or waking" (`EndpointUnavailable`: wake it, answer 503) from "bad request" (`RequestRejected`: 400).
The same path covers the race of an endpoint deleted between an earlier check and the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from sleepwake.aws import clients as aws
from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.domain.lifecycle import SERVING_STATUSES

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


class EndpointRuntime:
    def __init__(self, endpoints: SageMakerEndpoints, *, read_timeout_seconds: int = 25) -> None:
        self.endpoints = endpoints
        self.read_timeout_seconds = read_timeout_seconds

    def _call(self, **kwargs):
        return aws.client("sagemaker-runtime", read_timeout=self.read_timeout_seconds, attempts=1).invoke_endpoint(
            **kwargs
        )

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
        return InvokeResult(
            answer["Body"].read(),
            answer.get("ContentType") or "application/octet-stream",
            answer.get("InvokedProductionVariant"),
        )

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
        if code in (
            "ServiceUnavailable",
            "ModelNotReadyException",
            "InternalDependencyException",
            "InternalFailure",
            "InternalStreamFailure",
        ):
            return Busy(f"SageMaker is momentarily unavailable ({code}): {message}", 503, 5)
        return InvokeError(f"{code or 'error'}: {message}")
