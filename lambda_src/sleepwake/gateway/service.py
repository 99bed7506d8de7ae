"""The wake-aware inference gateway: HTTP in, SageMaker out, and a useful answer when the endpoint sleeps.

Routes (the handler `sleepwake.handlers.gateway` turns API Gateway HTTP API events into `HttpRequest`s):

* `POST /invoke`: 200 the model's body and content type; 503 + Retry-After while asleep or waking (the wake is
  started); 202 + request id with `Prefer: respond-async`; 303 to the stored answer when it is too large to
  return inline; 400 empty body, malformed JSON or a request SageMaker rejects; 413 body too large; 429/503 +
  Retry-After throttled; 502 model error; 504 model timeout.
* `GET /requests/{id}`: 200 status (+ result URL, + inline result when small); 400 malformed id; 404 unknown.
* `GET /status`: 200 the manager's status answer.
* `GET /lease`, `POST /lease {"minutes": N}`, `DELETE /lease`: the caller's own lease (`sleepwake.gateway.lease`: each
  holder has one) and the endpoint's latest expiry: 200 `{holder, active, expires_at, seconds_left,
  endpoint_lease}`; 400 bad JSON or bad minutes; 409 too many holders.

Transient AWS faults (throttling, unavailability, contention) answer 503 + Retry-After on every route, never 500.

Anything else is 404 (unknown path) or 405 (known path, other method). Every 4xx names the problem and changes
nothing. docs/architecture.md has the full contract, including what API Gateway answers before this code runs.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from sleepwake.aws import clients as aws
from sleepwake.aws.runtime import (
    Busy,
    EndpointUnavailable,
    InvokeError,
    InvokeResult,
    InvokeTimeout,
    ModelFailed,
    RequestRejected,
)
from sleepwake.common.observability import get_logger, log_event
from sleepwake.common.parsing import JsonError, clip
from sleepwake.common.parsing import loads as strict_json
from sleepwake.common.timefmt import iso
from sleepwake.domain.lifecycle import ASLEEP, FAILED, READY
from sleepwake.gateway.lease import LeaseContention, LeaseError, LeaseService, LeaseView, validate_minutes
from sleepwake.gateway.queue import (
    DONE,
    REQUEST_ID_RE,
    new_request_id,
    public_view,
)
from sleepwake.gateway.queue import FAILED as REQUEST_FAILED
from sleepwake.gateway.services import ServedBy, Services, invoke_in_flight
from sleepwake.gateway.settings import MAX_INLINE_RESPONSE_BYTES
from sleepwake.manager.service import ContentionError

log = get_logger("gateway")
DEFAULT_CONTENT_TYPE = "application/json"
REQUEST_PATH_RE = re.compile(r"^/requests/([^/]*)$")
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-ndjson", "application/javascript")
FALLBACK_RETRY_SECONDS = 5
SERVED_BY_HEADER = "X-Sleepwake-Served-By"


# The routes: method, path (Powertools' pattern), and the Gateway method answering it.
ROUTES = (
    ("POST", "/invoke", "_invoke"),
    ("GET", "/requests/<request_id>", "_get_request"),
    ("GET", "/status", "_status"),
    ("GET", "/lease", "_lease"),
    ("POST", "/lease", "_extend_lease"),
    ("DELETE", "/lease", "_release_lease"),
)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""
    request_id: str | None = None
    caller: str | None = None  # the token's name, or the IAM principal

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, payload: Mapping[str, Any], **headers: str) -> HttpResponse:
    return HttpResponse(
        status,
        json.dumps(payload, default=str).encode(),
        "application/json",
        {k.replace("_", "-"): v for k, v in headers.items()},
    )


def error_response(status: int, message: str, **extra: Any) -> HttpResponse:
    headers = {}
    if extra.get("retry_after_seconds") is not None:
        headers["Retry-After"] = str(int(extra["retry_after_seconds"]))
    return HttpResponse(
        status, json.dumps({"error": message, **extra}, default=str).encode(), "application/json", headers
    )


def to_response(response: HttpResponse) -> Response:
    """Our answer as Powertools' Response: text bodies as text, anything else as bytes (sent base64-encoded)."""
    headers = {"content-type": response.content_type, **{k.lower(): v for k, v in response.headers.items()}}
    body: str | bytes = response.body
    if is_text(response.content_type):
        try:
            body = response.body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return Response(status_code=response.status, body=body, headers=headers)


def is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


def is_text(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith(TEXT_TYPES) or mime.endswith("+json") or mime.endswith("+xml")


def prefers(prefer: str | None, token: str) -> bool:
    """RFC 7240: the `Prefer` header names `token` (possibly among other preferences)."""
    if not prefer:
        return False
    return any(part.split(";", 1)[0].strip().lower() == token for part in prefer.split(","))


def prefers_async(prefer: str | None) -> bool:
    """RFC 7240: `Prefer: respond-async` (possibly among other preferences)."""
    return prefers(prefer, "respond-async")


def inline_size(body: bytes, content_type: str) -> int:
    """Bytes the body takes in a Lambda proxy answer: JSON-escaped text, or base64."""
    if is_text(content_type):
        try:
            return len(json.dumps(body.decode("utf-8")))
        except UnicodeDecodeError:
            pass
    return 4 * math.ceil(len(body) / 3)


class Gateway(ServedBy):
    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.leases = LeaseService(self.manager.store, self.clock, self.settings.max_lease_minutes)
        self.endpoint_name = self.settings.endpoint_name

    # ---- routing (Powertools' APIGatewayHttpResolver over the ROUTES table) ------------------------------------
    def handle(self, request: HttpRequest, context: Any = None) -> dict[str, Any]:
        """Route a request (its envelope already checked part by part) and return the proxy answer. The resolver
        is given only what routing needs, built from the checked request: never the raw event, whose other parts
        (checked or not) it would parse by itself. The routes read the checked request."""
        path = request.path.rstrip("/") or "/"  # "/invoke/" is "/invoke"
        routing_event = {
            "version": "2.0",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {},
            "requestContext": {"http": {"method": request.method.upper(), "path": path}, "stage": "$default"},
            "isBase64Encoded": False,
        }
        return self._resolver(request).resolve(routing_event, context)

    def _resolver(self, request: HttpRequest) -> APIGatewayHttpResolver:
        """A resolver for this one request, its routes bound to it. One per request, not one shared: a resolver's
        context is per instance, and a gateway may serve requests on several threads at once (a shared one mixed
        up concurrent callers' requests; tests/test_leases.py's fifty parallel holders caught it)."""
        app = APIGatewayHttpResolver()
        for method, path, name in ROUTES:
            app.route(path, method=method)(self._endpoint(name, request))
        app.not_found(lambda _exc: self._no_route(request))
        return app

    def _endpoint(self, name: str, request: HttpRequest) -> Callable[..., Response]:
        def endpoint(**params: str) -> Response:
            route = getattr(self, name)
            return to_response(self._guarded(lambda r: route(r, **params), request))

        return endpoint

    def _no_route(self, request: HttpRequest) -> Response:
        """404 for an unknown path, 405 (with Allow) for a known path and another method; a request id the
        resolver's path pattern does not take is still answered by GET /requests/{id} (400, naming it)."""
        path, method = request.path.rstrip("/") or "/", request.method.upper()
        match = REQUEST_PATH_RE.match(path)
        allowed = sorted(m for m, p, _ in ROUTES if p == path or (match and p == "/requests/<request_id>"))
        if match and method == "GET":
            return to_response(self._guarded(lambda r: self._get_request(r, match.group(1)), request))
        if allowed:
            return to_response(self._not_allowed(method, path, allowed))
        return to_response(
            error_response(
                404,
                f"no route {clip(method, 20)} {clip(path)}; the gateway serves POST /invoke, "
                "GET /requests/{id}, GET /status and GET|POST|DELETE /lease",
            )
        )

    def _guarded(self, route: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
        """Run a route; throttling and contention become 503 + an honest Retry-After, never a 500."""
        try:
            return route(request)
        except (ContentionError, LeaseContention) as exc:
            retry = getattr(exc, "retry_after_seconds", FALLBACK_RETRY_SECONDS)
            log_event(log, "contended", logging.WARNING, error=str(exc))
            return error_response(503, f"{exc}; nothing was changed by this request", retry_after_seconds=retry)
        except Exception as exc:
            fault = aws.transient(exc)
            if fault is None:
                raise
            log_event(log, "transient AWS fault", logging.WARNING, code=fault.code, operation=fault.operation)
            return error_response(
                503,
                f"{fault.describe()}; retry in {fault.retry_after_seconds} s",
                retry_after_seconds=fault.retry_after_seconds,
            )

    @staticmethod
    def _not_allowed(method: str, path: str, allowed: list[str]) -> HttpResponse:
        response = error_response(405, f"{clip(method, 20)} is not allowed on {clip(path)}; use {' or '.join(allowed)}")
        return HttpResponse(response.status, response.body, response.content_type, {"Allow": ", ".join(allowed)})

    # ---- POST /invoke -------------------------------------------------------------------------------------
    def _invoke(self, request: HttpRequest) -> HttpResponse:
        body = request.body
        limit = self.settings.max_body_bytes
        if len(body) > limit:
            return error_response(
                413,
                f"the body is {len(body)} bytes; the gateway accepts at most {limit} bytes "
                "(SageMaker's 6 MiB synchronous limit, less the base64 and envelope overhead "
                "of a Lambda invocation); pass large inputs by reference, e.g. an S3 URI "
                "the model reads",
                max_bytes=limit,
                body_bytes=len(body),
            )
        if not body:
            return error_response(400, "the body is empty; send the model's input")
        content_type = request.header("content-type") or DEFAULT_CONTENT_TYPE
        if is_json(content_type):
            try:
                strict_json(body)
            except JsonError as exc:
                return error_response(
                    400,
                    f"the body is not valid JSON ({exc}); fix it or send another "
                    f"Content-Type (got {clip(content_type)})",
                )
        accept = request.header("accept")
        accept = None if not accept or accept.strip() == "*/*" else accept
        prefer = request.header("prefer")
        if prefers_async(prefer):
            return self._accept_async(request, body, content_type, accept)
        fallback = self.settings.fallback_endpoint is not None and (
            prefers(prefer, "fallback") or self.settings.fallback_by_default
        )
        return self._invoke_now(body, content_type, accept, fallback=fallback)

    def _invoke_now(
        self, body: bytes, content_type: str, accept: str | None, *, fallback: bool = False
    ) -> HttpResponse:
        try:
            result = self._invoke_in_flight(body, content_type, accept)
        except EndpointUnavailable as unavailable:
            answer = self._wake()
            if answer.get("state") != READY:
                if fallback:
                    return self._fallback_answer(answer, body, content_type, accept)
                return self._unavailable(answer)
            # It became ready between the failed call and the wake: try once more, then leave it to the caller.
            try:
                result = self._invoke_in_flight(body, content_type, accept)
            except EndpointUnavailable:
                log_event(log, "endpoint flapped", logging.WARNING, sagemaker_status=unavailable.status)
                return self._unavailable({**answer, "state": "waking", "retry_after_seconds": FALLBACK_RETRY_SECONDS})
            except InvokeError as exc:
                return self._invoke_failed(exc)
        except InvokeError as exc:
            return self._invoke_failed(exc)
        return self._model_answer(result)

    def _fallback_answer(
        self, answer: Mapping[str, Any], body: bytes, content_type: str, accept: str | None
    ) -> HttpResponse:
        """The endpoint is not serving and its wake is started (`answer`): answer from the fallback endpoint, marked
        as such, with the wake's state and Retry-After. Any fallback failure: the 503 the request gets without it."""
        name = self.settings.fallback_endpoint
        try:
            result = self.runtime.invoke(name, body, content_type, accept)
        except Exception as exc:
            if not isinstance(exc, InvokeError) and aws.transient(exc) is None:
                raise
            log_event(log, "fallback failed", logging.WARNING, fallback_endpoint=name, error=str(exc))
            return self._unavailable(answer)
        if inline_size(result.body, result.content_type) > MAX_INLINE_RESPONSE_BYTES:
            log_event(log, "fallback answer too large to return inline", fallback_endpoint=name)
            return self._unavailable(answer)
        log_event(log, "served by fallback", fallback_endpoint=name, state=answer.get("state"))
        headers = {SERVED_BY_HEADER: "fallback", "X-Sleepwake-Fallback-Endpoint": name}
        headers["X-Sleepwake-State"] = str(answer.get("state") or "waking")
        retry = answer.get("retry_after_seconds")
        if retry is not None:
            headers["Retry-After"] = str(int(retry))
        return HttpResponse(200, result.body, result.content_type, headers)

    def _invoke_in_flight(self, body: bytes, content_type: str, accept: str | None) -> InvokeResult:
        return invoke_in_flight(
            self.activity,
            self.runtime,
            self.endpoint_name,
            body,
            content_type,
            accept,
            self.settings.invoke_timeout_seconds,
        )

    def _model_answer(self, result: InvokeResult) -> HttpResponse:
        if inline_size(result.body, result.content_type) <= MAX_INLINE_RESPONSE_BYTES:
            return HttpResponse(200, result.body, result.content_type)
        # Too large for a Lambda proxy answer: keep it and send the caller there (RFC 9110: 303 after a POST).
        request_id = new_request_id()
        key = self.results.put(request_id, result.body, result.content_type)
        url = self.results.url(key, self.settings.result_url_seconds)
        log_event(log, "answer stored: too large to return inline", result_bytes=len(result.body))
        response = json_response(
            303,
            {
                "result_url": url,
                "result_bytes": len(result.body),
                "result_content_type": result.content_type,
                "expires_at": iso(self.clock.now() + self.settings.result_url_seconds),
            },
        )
        return HttpResponse(303, response.body, response.content_type, {"Location": url})

    def _invoke_failed(self, exc: InvokeError) -> HttpResponse:
        if isinstance(exc, RequestRejected):
            return error_response(400, f"SageMaker rejected the request: {exc}")
        if isinstance(exc, ModelFailed):
            log_event(log, "model error", logging.WARNING, original_status_code=exc.original_status_code)
            return error_response(
                502,
                f"the model answered with an error ({exc.original_status_code}): {exc.original_message or exc}",
                original_status_code=exc.original_status_code,
            )
        if isinstance(exc, Busy):
            return error_response(exc.status_code, str(exc), retry_after_seconds=exc.retry_after_seconds, state=READY)
        if isinstance(exc, InvokeTimeout):
            return error_response(504, f"{exc}; long inferences should use Prefer: respond-async")
        log_event(log, "invoke failed", logging.ERROR, error=str(exc))
        return error_response(502, f"SageMaker answered with an error: {exc}")

    def _wake(self) -> dict[str, Any]:
        """Ask the manager for a wake. A throttled CreateEndpoint is not an error for the caller: the wake was
        recorded (the endpoint is wanted) and is retried, so the answer says when, honestly; a throttled read
        (nothing decided yet) propagates and `_guarded` answers 503 with a short Retry-After."""
        try:
            return self.manager.wake(self.endpoint_name)
        except ContentionError as exc:
            log_event(log, "wake contended", logging.WARNING, error=str(exc))
            return {"state": "waking", "retry_after_seconds": FALLBACK_RETRY_SECONDS, "message": str(exc)}
        except Exception as exc:
            fault = aws.transient(exc)
            if fault is None or fault.operation != "CreateEndpoint":
                raise
            retry = self._create_retry_after(fault)
            log_event(log, "wake deferred: CreateEndpoint refused for now", logging.WARNING, code=fault.code)
            return {
                "state": ASLEEP,
                "retry_after_seconds": retry,
                "wake_deferred": True,
                "message": f"{fault.describe()}: nothing is being created yet; the wake is recorded and is "
                f"retried within {retry} s (by the next request or the manager's tick)",
            }

    def _create_retry_after(self, fault: aws.Transient) -> int:
        """When a refused CreateEndpoint can next be tried. If the manager's create claim is still held, nothing
        is being created and no new create starts until the claim lapses; without a claim, right after the fault's
        own wait. The record cannot be read either: assume the claim, from now."""
        timeout = self.manager.settings.create_claim_timeout_seconds
        try:
            claimed = self.manager.store.get(self.endpoint_name).create_claimed_at
        except Exception:
            return max(fault.retry_after_seconds, timeout)
        if claimed is None:
            return fault.retry_after_seconds
        return max(fault.retry_after_seconds, math.ceil(claimed + timeout - self.clock.now()))

    def _unavailable(self, answer: Mapping[str, Any]) -> HttpResponse:
        state = answer.get("state") or "waking"
        retry = answer.get("retry_after_seconds")
        if retry is None and state != FAILED:
            retry = self.manager.settings.wake_estimate_seconds
        if state == FAILED and retry is None:
            message = (
                f"the endpoint {self.endpoint_name} failed and will not be retried automatically: "
                f"{answer.get('message')}"
            )
        elif answer.get("wake_deferred"):
            message = (
                f"the endpoint {self.endpoint_name} is asleep and its wake is deferred "
                f"({answer.get('message')}); retry in {retry} s or send Prefer: respond-async to have the "
                "request queued and replayed"
            )
        else:
            message = (
                f"the endpoint {self.endpoint_name} is {state}; a wake is under way, retry in {retry} s "
                "or send Prefer: respond-async to have the request queued and replayed"
            )
        return error_response(
            503,
            message,
            state=state,
            retry_after_seconds=retry,
            endpoint_name=self.endpoint_name,
            detail=answer.get("message"),
        )

    # ---- respond-async ------------------------------------------------------------------------------------
    def _accept_async(self, request: HttpRequest, body: bytes, content_type: str, accept: str | None) -> HttpResponse:
        name = self.endpoint_name
        # Wake first: the wake request also marks the endpoint in use, so the idle timeout and the grace period
        # after InService cover the replay. A request is queued only when a wake is coming.
        answer = self._wake()
        if answer.get("state") == FAILED and answer.get("retry_after_seconds") is None:
            return self._unavailable(answer)
        request_id = new_request_id()
        now = self.clock.now()
        message = self.queue.message_for(request_id, name, body, content_type, accept, now)
        self.requests.create(
            request_id,
            endpoint_name=name,
            content_type=content_type,
            received_at=now,
            body_bytes=len(body),
            body_key=message.body_key,
            expires_at=self._expires_at(now),
            caller=request.caller,
        )
        try:
            self.queue.send(message)
        except Exception:
            try:
                self.requests.delete(request_id)
            except Exception:
                pass
            raise
        self.activity.record(name)
        log_event(
            log,
            "request queued",
            queued_request_id=request_id,
            body_bytes=len(body),
            body_in_s3=message.body_key is not None,
            state=answer.get("state"),
        )
        status_url = f"/requests/{request_id}"
        payload = {
            "request_id": request_id,
            "status": "queued",
            "status_url": status_url,
            "state": answer.get("state"),
            "retry_after_seconds": answer.get("retry_after_seconds"),
        }
        return json_response(202, payload, Location=status_url, Preference_Applied="respond-async")

    def _expires_at(self, now: float) -> int:
        return int(now + self.settings.request_retention_days * 86400)

    # ---- GET /requests/{id} -------------------------------------------------------------------------------
    def _get_request(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if not REQUEST_ID_RE.match(request_id):
            return error_response(
                400,
                f"{request_id[:64]!r} is not a request id (32 lower-case hex characters, "
                "as POST /invoke with Prefer: respond-async returned)",
            )
        item = self.requests.get(request_id)
        unknown = error_response(
            404,
            f"no request {request_id}: unknown, or older than the {self.settings.request_retention_days}-day retention",
        )
        if item is None or item.get("endpoint_name") != self.endpoint_name:
            return unknown
        if item.get("caller") and item["caller"] != request.caller:
            return unknown  # someone else's request: do not even confirm it exists
        view = public_view(item)
        key = item.get("result_key")
        if item.get("status") in (DONE, REQUEST_FAILED) and key:
            expires = self.settings.result_url_seconds
            view["result_url"] = self.results.url(key, expires)
            view["result_url_expires_at"] = iso(self.clock.now() + expires)
            content_type = item.get("result_content_type") or "application/octet-stream"
            if int(item.get("result_bytes", 0)) <= self.settings.inline_result_bytes and is_text(content_type):
                try:
                    view["result"] = self.results.read(key).decode("utf-8")
                except UnicodeDecodeError:
                    pass
        return json_response(200, view)

    # ---- GET /status --------------------------------------------------------------------------------------
    def _status(self, request: HttpRequest) -> HttpResponse:
        return json_response(200, self.manager.status(self.endpoint_name))

    # ---- leases -------------------------------------------------------------------------------------------
    def _lease_answer(self, view: LeaseView, status: int = 200, **extra: Any) -> HttpResponse:
        return json_response(status, {**view.answer(), "max_minutes": self.settings.max_lease_minutes, **extra})

    def _lease(self, request: HttpRequest) -> HttpResponse:
        try:
            view = self.leases.view(self.endpoint_name, request.caller)
        except LeaseError as exc:
            return error_response(exc.status, str(exc))
        return self._lease_answer(view)

    def _extend_lease(self, request: HttpRequest) -> HttpResponse:
        try:
            parsed = strict_json(request.body) if request.body else None
        except JsonError as exc:
            return error_response(400, f'the body is not valid JSON ({exc}); send {{"minutes": N}}')
        try:
            minutes = validate_minutes(parsed, self.settings.max_lease_minutes)
            lease, capped = self.leases.extend(self.endpoint_name, minutes, request.caller)
        except LeaseError as exc:
            return error_response(exc.status, str(exc), max_minutes=self.settings.max_lease_minutes)
        log_event(
            log, "lease extended", minutes=minutes, capped=capped, lease_until=iso(lease.until), holders=lease.holders
        )
        # The lease is written: whatever happens to the wake now, the answer says so. An asleep endpoint starts
        # now rather than at the next tick; if the wake cannot run now, the tick starts it (the lease wants it).
        try:
            answer = self._wake()
        except Exception as exc:
            fault = aws.transient(exc)
            if fault is None:
                raise
            log_event(log, "wake after lease deferred", logging.WARNING, code=fault.code, operation=fault.operation)
            answer = {
                "state": None,
                "wake_deferred": True,
                "message": f"{fault.describe()}; the manager's next tick starts the endpoint (the lease keeps "
                "it wanted)",
            }
        extra: dict[str, Any] = {
            "extended_by_minutes": minutes,
            "capped": capped,
            "lease_written": True,
            "state": answer.get("state"),
            "message": answer.get("message"),
        }
        if answer.get("wake_deferred"):
            extra["wake_deferred"] = True
        if answer.get("retry_after_seconds") is not None:
            extra["retry_after_seconds"] = answer["retry_after_seconds"]
        return self._lease_answer(lease, **extra)

    def _release_lease(self, request: HttpRequest) -> HttpResponse:
        try:
            view, released = self.leases.release(self.endpoint_name, request.caller)
        except LeaseError as exc:
            return error_response(exc.status, str(exc))
        log_event(log, "lease released", released=released, holders=view.holders)
        return self._lease_answer(view, released=released)
