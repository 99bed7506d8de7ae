"""A small client for app code (an app Lambda, a script) that calls a sleep/wake endpoint and copes with its naps.

Through the gateway (token or IAM auth; standard library + botocore only):

    from sleepwake_client import SleepwakeClient, EndpointWakingError
    client = SleepwakeClient(api_url=os.environ["SLEEPWAKE_API_URL"], token=os.environ["SLEEPWAKE_API_TOKEN"])
    answer = client.invoke({"inputs": "hello"}, deadline_seconds=20)   # -> InvokeResponse(body, content_type)

Directly (boto3 InvokeEndpoint; when the endpoint is asleep the manager Lambda is asked to wake it):

    client = SleepwakeClient(endpoint_name="my-endpoint", manager_function="sleepwake-dev-manager",
                             state_table="sleepwake-dev-state")   # state_table: record activity after each call

Serverless mode (SageMaker scales from zero itself: a direct InvokeEndpoint, throttling retried to the deadline):

    client = SleepwakeClient(endpoint_name="my-endpoint-serverless", mode="serverless")

Async mode (upload under the input prefix, the trigger submits it, poll the status, read the result):

    client = SleepwakeClient(mode="async", input_bucket="...", input_prefix="inputs/",
                             state_table="my-env-async-state")
    job = client.submit_async(b'{"inputs": "hello"}')          # -> {"bucket", "key", "version_id", ...}
    answer = client.invoke(b'{"inputs": "hello"}', deadline_seconds=600)   # upload + wait for the result

`SleepwakeClient.from_outputs(outputs)` builds the right client from an environment's Terraform outputs
(`terraform output -json`, or the same names as environment variables), whatever its `inference_mode`.

`invoke` retries while the endpoint wakes, with exponential backoff that honours the server's Retry-After as a
floor, polling at least every `max_poll_interval_seconds` (a wake estimate is coarse; None honours Retry-After
strictly), until `deadline_seconds` has passed; then it raises `EndpointWakingError(state, retry_after_seconds)`.
A wake typically takes minutes: an app Lambda should either give a short deadline and tell its caller to come
back, or use `submit` (Prefer: respond-async) and read the result later with `request`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sleepwake.gateway.settings import DEFAULT_MAX_BODY_BYTES

API_REGION_RE = re.compile(r"^https://[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")
DEFAULT_FIRST_DELAY_SECONDS = 1.0


class SleepwakeError(Exception):
    """Base of the client's errors."""


class EndpointWakingError(SleepwakeError):
    """The deadline passed while the endpoint was still waking (or asleep, or sleeping)."""

    def __init__(self, endpoint: str, state: str, retry_after_seconds: int | None, waited_seconds: float) -> None:
        self.endpoint = endpoint
        self.state = state
        self.retry_after_seconds = retry_after_seconds
        self.waited_seconds = waited_seconds
        more = f"; it needs about {retry_after_seconds} s more" if retry_after_seconds is not None else ""
        super().__init__(
            f"endpoint {endpoint} is waking (state {state}) and was not ready within "
            f"{waited_seconds:.0f} s{more}. Try again later, or submit the request with "
            "Prefer: respond-async (SleepwakeClient.submit) to have it replayed once it is ready."
        )


class EndpointFailedError(SleepwakeError):
    """The endpoint failed and will not be retried automatically; someone has to look at it."""


class GatewayError(SleepwakeError):
    """Any other error answer; `status` is the HTTP status (0 for a direct call), `body` the parsed answer."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.body = body


class GatewayUnreachableError(SleepwakeError):
    """The gateway could not be reached (DNS, refused or reset connection, TLS, timeout): nothing was answered."""

    def __init__(self, url: str, reason: object) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"could not reach the gateway at {url}: {reason}")


class PayloadTooLargeError(GatewayError):
    """The body is larger than the gateway (or SageMaker) accepts; checked before sending (status 0) or
    answered by the gateway (413)."""


@dataclass(frozen=True)
class InvokeResponse:
    body: bytes
    content_type: str
    status: int = 200
    attempts: int = 1
    waited_seconds: float = 0.0
    # "fallback" when the gateway answered from its fallback endpoint while the model woke (accept_fallback=True),
    # "model" otherwise; `state` and `retry_after_seconds` then tell when the model itself is expected.
    served_by: str = "model"
    state: str | None = None
    retry_after_seconds: int | None = None

    @property
    def from_fallback(self) -> bool:
        return self.served_by == "fallback"

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def payload(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A 303 to a pre-signed S3 URL is followed by hand, without the Authorization header.
    def redirect_request(self, *args, **kwargs):
        return None


def _encode(body: Any, content_type: str) -> tuple[bytes, str]:
    if isinstance(body, bytes):
        return body, content_type
    if isinstance(body, str):
        return body.encode("utf-8"), content_type
    return json.dumps(body).encode("utf-8"), "application/json"


MODES = ("realtime", "serverless", "async")
# Errors a serverless endpoint answers while it is scaling up or saturated: worth retrying until the deadline.
SERVERLESS_RETRYABLE = ("ThrottlingException", "ModelNotReadyException", "ServiceUnavailable")


class JobFailedError(SleepwakeError):
    """An async inference failed; `status` holds the failure reason and where the input was kept."""

    def __init__(self, status: Mapping[str, Any]) -> None:
        self.status = dict(status)
        super().__init__(
            f"the async inference of {status.get('input_location') or status.get('key')} failed: "
            f"{status.get('failure_reason') or 'no reason given'} (input kept at "
            f"{status.get('failed_copy') or 'its original location'})"
        )


class JobPendingError(SleepwakeError):
    """The deadline passed before the async inference finished; poll `job_status(job)` later."""

    def __init__(self, job: Mapping[str, Any], status: str, waited_seconds: float) -> None:
        self.job, self.state, self.waited_seconds = dict(job), status, waited_seconds
        super().__init__(
            f"the async inference of {job.get('input_location')} is still {status} after "
            f"{waited_seconds:.0f} s (async endpoints scale from zero; a cold start takes minutes). "
            "Poll SleepwakeClient.job_status(job) later."
        )


OUTPUT_NAMES = (
    "inference_mode",
    "endpoint_name",
    "input_bucket",
    "input_prefix",
    "state_table_name",
    "api_url",
    "gateway_auth",
    "manager_function_name",
)


def _outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs the client reads, by their Terraform names, whichever way they were given."""
    found: dict[str, Any] = {}
    for name in OUTPUT_NAMES:
        for key in (name, name.upper(), f"SLEEPWAKE_{name.upper()}"):
            if key in outputs:
                value = outputs[key]
                found[name] = value.get("value") if isinstance(value, Mapping) and "value" in value else value
                break
    return found


class SleepwakeClient:
    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], **kwargs: Any) -> "SleepwakeClient":
        """A client for an environment, from its Terraform outputs: `terraform output -json`, plain values, or
        environment variables named after the outputs in upper case (`INFERENCE_MODE`, or `SLEEPWAKE_INFERENCE_MODE`;
        `from_outputs(os.environ)`). A lower-case output name wins over its upper-case variables."""
        plain = _outputs(outputs)
        mode = plain.get("inference_mode")
        if mode not in MODES:
            raise ValueError(f"outputs must carry inference_mode ({' | '.join(MODES)}), got {mode!r}")
        if mode == "async":
            return cls(
                mode="async",
                input_bucket=plain.get("input_bucket"),
                input_prefix=plain.get("input_prefix"),
                state_table=plain.get("state_table_name"),
                **kwargs,
            )
        if mode == "serverless":
            return cls(endpoint_name=plain.get("endpoint_name"), mode="serverless", **kwargs)
        if plain.get("api_url") and (
            kwargs.get("token") or os.environ.get("SLEEPWAKE_API_TOKEN") or plain.get("gateway_auth") == "iam"
        ):
            return cls(api_url=plain["api_url"], auth=plain.get("gateway_auth"), **kwargs)
        return cls(
            endpoint_name=plain.get("endpoint_name"),
            manager_function=plain.get("manager_function_name"),
            state_table=plain.get("state_table_name"),
            **kwargs,
        )

    def __init__(
        self,
        api_url: str | None = None,
        endpoint_name: str | None = None,
        token: str | None = None,
        *,
        mode: str = "realtime",
        input_bucket: str | None = None,
        input_prefix: str | None = None,
        auth: str | None = None,
        region: str | None = None,
        manager_function: str | None = None,
        state_table: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        request_timeout_seconds: float = 30.0,
        first_delay_seconds: float = DEFAULT_FIRST_DELAY_SECONDS,
        max_poll_interval_seconds: float | None = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        runtime_client: Any = None,
        wake: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.input_bucket, self.input_prefix = input_bucket, input_prefix
        if mode == "async":
            if not input_bucket or not input_prefix or not state_table:
                raise ValueError(
                    "async mode needs input_bucket, input_prefix and state_table (the environment's "
                    "input_bucket, input_prefix and state_table_name outputs)"
                )
        elif mode == "serverless" and not endpoint_name:
            raise ValueError("serverless mode needs endpoint_name")
        elif not api_url and not endpoint_name:
            raise ValueError("give api_url (through the gateway) or endpoint_name (direct to SageMaker)")
        self.api_url = api_url.rstrip("/") if api_url else None
        self.endpoint_name = endpoint_name
        self.token = token if token is not None else (os.environ.get("SLEEPWAKE_API_TOKEN") or None)
        self.auth = auth or ("token" if self.token else "iam")
        if self.auth not in ("token", "iam"):
            raise ValueError(f"auth must be 'token' or 'iam', got {self.auth!r}")
        if self.api_url and self.auth == "token" and not self.token:
            raise ValueError("token auth needs a token (or set SLEEPWAKE_API_TOKEN)")
        match = API_REGION_RE.match(self.api_url or "")
        self.region = (
            region
            or (match.group(1) if match else None)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        self.manager_function = manager_function
        self.state_table = state_table
        self.max_body_bytes = max_body_bytes
        self.request_timeout_seconds = request_timeout_seconds
        self.first_delay_seconds = first_delay_seconds
        self.max_poll_interval_seconds = max_poll_interval_seconds
        self._sleep = sleep
        self._clock = clock
        self._runtime_client = runtime_client
        self._wake = wake
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._activity = None

    # ---- public API ---------------------------------------------------------------------------------------
    def invoke(
        self,
        body: Any,
        content_type: str = "application/json",
        *,
        deadline_seconds: float = 30.0,
        accept: str | None = None,
        accept_fallback: bool = False,
    ) -> InvokeResponse:
        """Invoke the model, waiting up to `deadline_seconds` for a sleeping endpoint to wake.

        `accept_fallback=True` (through the gateway): while the model wakes, take the answer of the gateway's
        fallback endpoint (a smaller model) at once; the answer's `from_fallback` says so. The wake starts anyway."""
        data, content_type = _encode(body, content_type)
        if accept_fallback and not self.api_url:
            raise ValueError("accept_fallback needs the gateway (api_url): the fallback endpoint is the gateway's")
        if self.mode == "async":
            return self._invoke_async(data, content_type, deadline_seconds)
        if len(data) > self.max_body_bytes:
            raise PayloadTooLargeError(
                0,
                f"the body is {len(data)} bytes; at most {self.max_body_bytes} are accepted "
                "(pass large inputs by reference, e.g. an S3 URI the model reads)",
            )
        attempt = self._via_gateway if self.api_url else self._direct
        started = self._clock()
        deadline = started + max(0.0, deadline_seconds)
        delay = self.first_delay_seconds
        attempts = 0
        while True:
            attempts += 1
            outcome = (
                attempt(data, content_type, accept, accept_fallback)
                if accept_fallback
                else attempt(data, content_type, accept)
            )
            if isinstance(outcome, InvokeResponse):
                return InvokeResponse(
                    outcome.body,
                    outcome.content_type,
                    outcome.status,
                    attempts,
                    self._clock() - started,
                    outcome.served_by,
                    outcome.state,
                    outcome.retry_after_seconds,
                )
            state, retry_after = outcome
            now = self._clock()
            if state == "failed" and retry_after is None:
                raise EndpointFailedError(
                    f"endpoint {self._name()} failed and is not being retried; ask its "
                    "owner to check it (wake with reset_failures once fixed)"
                )
            if now >= deadline:
                raise EndpointWakingError(self._name(), state, retry_after, now - started)
            wait = max(delay, float(retry_after or 0))
            if self.max_poll_interval_seconds is not None:
                wait = min(wait, self.max_poll_interval_seconds)
            self._sleep(min(wait, deadline - now))
            delay = (
                delay * 2 if self.max_poll_interval_seconds is None else min(delay * 2, self.max_poll_interval_seconds)
            )

    # ---- async mode ---------------------------------------------------------------------------------------
    def submit_async(self, body: Any, content_type: str = "application/json", *, key: str | None = None) -> dict:
        """Upload one input under the input prefix; the trigger submits it. Pass the answer to `job_status`.
        `key` names the object under the prefix ("batch-7/doc.json"); by default a fresh name per input."""
        self._need_mode("async", "submit_async")
        from sleepwake.asyncjobs.jobs import upload_input

        data, content_type = _encode(body, content_type)
        return upload_input(
            data, bucket=self.input_bucket, prefix=self.input_prefix, content_type=content_type, key=key
        )

    def job_status(self, job: Mapping[str, Any]) -> dict:
        """`unknown`, `submitting`, `retrying`, `queued`, `completed` or `failed`, with the output location."""
        self._need_mode("async", "job_status")
        from sleepwake.asyncjobs.jobs import status

        return status(job["bucket"], job["key"], job.get("version_id"), table_name=self.state_table)

    def _invoke_async(self, data: bytes, content_type: str, deadline_seconds: float) -> InvokeResponse:
        from sleepwake.asyncjobs.jobs import fetch_output

        started = self._clock()
        job = self.submit_async(data, content_type)
        delay, attempts = self.first_delay_seconds, 0
        while True:
            attempts += 1
            current = self.job_status(job)
            if current.get("status") == "completed":
                body, output_type = fetch_output(current["output_location"])
                return InvokeResponse(
                    body,
                    output_type or "application/octet-stream",
                    200,
                    attempts,
                    self._clock() - started,
                )
            if current.get("status") == "failed":
                raise JobFailedError(current)
            now = self._clock()
            if now - started >= deadline_seconds:
                raise JobPendingError(job, current.get("status") or "unknown", now - started)
            self._sleep(min(delay, max(0.0, started + deadline_seconds - now)))
            delay = min(delay * 2, self.max_poll_interval_seconds or delay * 2)

    def _need_mode(self, mode: str, what: str) -> None:
        if self.mode != mode:
            raise SleepwakeError(f"{what} is for {mode} mode; this client is in {self.mode} mode")

    def submit(self, body: Any, content_type: str = "application/json", *, accept: str | None = None) -> dict:
        """Queue the request (Prefer: respond-async); it is replayed as soon as the endpoint is ready.
        Returns the gateway's answer: `request_id`, `status_url`, the endpoint's `state`."""
        self._need_gateway("submit")
        data, content_type = _encode(body, content_type)
        headers = {"Content-Type": content_type, "Prefer": "respond-async"}
        if accept:
            headers["Accept"] = accept
        answer = self._http("POST", "/invoke", data, headers)
        if answer.status != 202:
            raise self._error(answer)
        return answer.payload()

    def request(self, request_id: str) -> dict:
        """The status of a submitted request; with `result` (small text results) and `result_url` once done."""
        self._need_gateway("request")
        answer = self._http("GET", f"/requests/{request_id}", b"", {})
        if answer.status != 200:
            raise self._error(answer)
        return answer.payload()

    def status(self) -> dict:
        self._need_gateway("status")
        answer = self._http("GET", "/status", b"", {})
        if answer.status != 200:
            raise self._error(answer)
        return answer.payload()

    # ---- through the gateway ------------------------------------------------------------------------------
    def _via_gateway(self, data: bytes, content_type: str, accept: str | None, accept_fallback: bool = False):
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        if accept_fallback:
            headers["Prefer"] = "fallback"
        answer = self._http("POST", "/invoke", data, headers)
        if answer.status == 200:
            content = answer.headers.get("content-type", "application/octet-stream")
            if answer.headers.get("x-sleepwake-served-by") == "fallback":
                retry = answer.headers.get("retry-after")
                return InvokeResponse(
                    answer.body,
                    content,
                    served_by="fallback",
                    state=answer.headers.get("x-sleepwake-state"),
                    retry_after_seconds=int(retry) if retry and retry.isdigit() else None,
                )
            return InvokeResponse(answer.body, content)
        if answer.status == 303 and answer.headers.get("location"):
            stored = self._fetch(answer.headers["location"])
            return InvokeResponse(stored.body, stored.headers.get("content-type", "application/octet-stream"))
        payload = answer.payload()
        payload = payload if isinstance(payload, dict) else {}
        if answer.status in (429, 503) and ("state" in payload or "retry-after" in answer.headers):
            if isinstance(payload.get("endpoint_name"), str):
                self.endpoint_name = self.endpoint_name or payload["endpoint_name"]
            retry = answer.headers.get("retry-after") or payload.get("retry_after_seconds")
            return payload.get("state") or "waking", int(retry) if retry not in (None, "") else None
        raise self._error(answer)

    def _http(self, method: str, path: str, data: bytes, headers: dict[str, str]) -> _Answer:
        url = f"{self.api_url}{path}"
        headers = dict(headers)
        if self.auth == "token":
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers.update(self._sigv4(method, url, data, headers))
        request = urllib.request.Request(
            url, data=data if method in ("POST", "PUT") else None, headers=headers, method=method
        )
        return self._open(request)

    def _fetch(self, url: str) -> _Answer:
        answer = self._open(urllib.request.Request(url, method="GET"))
        if answer.status != 200:
            raise GatewayError(answer.status, "could not read the stored answer")
        return answer

    def _open(self, request: urllib.request.Request) -> _Answer:
        try:
            with self._opener.open(request, timeout=self.request_timeout_seconds) as response:
                return _Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return _Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())
        except urllib.error.URLError as error:  # no HTTP answer at all: name the URL and the reason
            raise GatewayUnreachableError(request.full_url, error.reason) from error
        except (OSError, http.client.HTTPException) as error:  # a reset or a timeout while reading the answer
            raise GatewayUnreachableError(request.full_url, error) from error

    def _sigv4(self, method: str, url: str, data: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise SleepwakeError("IAM auth needs AWS credentials (none found)")
        if not self.region:
            raise SleepwakeError("IAM auth needs the API's region: pass region=...")
        signed = AWSRequest(method=method, url=url, data=data, headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(signed)
        return dict(signed.headers.items())

    def _error(self, answer: _Answer) -> GatewayError:
        payload = answer.payload()
        if isinstance(payload, dict):
            message = payload.get("error") or payload.get("message") or json.dumps(payload)
        else:
            message = answer.body[:500].decode("utf-8", "replace")
        if answer.status == 413:
            return PayloadTooLargeError(413, message, payload)
        return GatewayError(answer.status, message, payload)

    def _need_gateway(self, what: str) -> None:
        if not self.api_url:
            raise SleepwakeError(f"{what} goes through the gateway: create the client with api_url")

    # ---- direct -------------------------------------------------------------------------------------------
    def _direct(self, data: bytes, content_type: str, accept: str | None):
        from botocore.exceptions import ClientError

        kwargs = {"EndpointName": self.endpoint_name, "Body": data, "ContentType": content_type}
        if accept:
            kwargs["Accept"] = accept
        recorder = self._recorder()
        if recorder is not None:
            from sleepwake.manager.activity import EndpointGoingToSleep

            try:
                # Marked in flight before it is sent, so the manager never deletes the endpoint under it.
                recorder.begin(self.endpoint_name, self.request_timeout_seconds)
            except EndpointGoingToSleep:
                woken = self._ask_wake()
                retry = woken.get("retry_after_seconds")
                return woken.get("state") or "waking", int(retry) if retry is not None else None
        try:
            answer = self._runtime().invoke_endpoint(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if self.mode == "serverless":
                # SageMaker scales a serverless endpoint itself: nothing to wake, only saturation to wait out.
                if error.get("Code") in SERVERLESS_RETRYABLE:
                    return "throttled", None
                raise GatewayError(0, f"{error.get('Code')}: {error.get('Message')}") from exc
            if error.get("Code") not in ("ValidationError", "ValidationException"):
                raise GatewayError(0, f"{error.get('Code')}: {error.get('Message')}") from exc
            woken = self._ask_wake()
            if woken.get("state") == "ready":
                # Serving, so the request itself was refused.
                raise GatewayError(0, f"SageMaker rejected the request: {error.get('Message')}") from exc
            retry = woken.get("retry_after_seconds")
            return woken.get("state") or "waking", int(retry) if retry is not None else None
        finally:
            if recorder is not None:
                recorder.end(self.endpoint_name)
        return InvokeResponse(answer["Body"].read(), answer.get("ContentType") or "application/octet-stream")

    def _ask_wake(self) -> Mapping[str, Any]:
        if self._wake is not None:
            return self._wake(self.endpoint_name)
        if not self.manager_function:
            raise SleepwakeError(
                f"endpoint {self.endpoint_name} is not serving and no manager_function was given to wake it"
            )
        import boto3

        answer = boto3.client("lambda", region_name=self.region).invoke(
            FunctionName=self.manager_function,
            Payload=json.dumps({"action": "wake", "endpoint_name": self.endpoint_name}).encode(),
        )
        payload = json.loads(answer["Payload"].read() or b"{}")
        if answer.get("FunctionError") or not isinstance(payload, dict) or "state" not in payload:
            raise SleepwakeError(f"the manager could not wake {self.endpoint_name}: {payload}")
        return payload

    def _runtime(self):
        if self._runtime_client is None:
            import boto3
            from botocore.config import Config

            self._runtime_client = boto3.client(
                "sagemaker-runtime",
                region_name=self.region,
                config=Config(
                    read_timeout=max(1, int(self.request_timeout_seconds)),
                    retries={"mode": "standard", "total_max_attempts": 1},
                ),
            )
        return self._runtime_client

    def _recorder(self):
        """The in-flight and activity recorder for the real-time direct mode (with `state_table`), else None."""
        if not self.state_table or self.mode != "realtime":
            return None
        if self._activity is None:
            from sleepwake.manager.activity import ActivityRecorder

            self._activity = ActivityRecorder(self.state_table)
        return self._activity

    def _name(self) -> str:
        return self.endpoint_name or self.api_url or "?"
