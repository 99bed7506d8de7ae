"""Entry point of the inference gateway Lambda behind the HTTP API: `sleepwake.handlers.gateway.handler`.

Turns an API Gateway HTTP API event (payload format 2.0) into an `HttpRequest`, lets `sleepwake.gateway.Gateway`
answer it, and turns the `HttpResponse` back into the proxy answer. Never logs headers or bodies (the
Authorization header carries a token).
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from typing import Any, Mapping

from ..gateway import Gateway, HttpRequest, HttpResponse, error_response, is_text
from ..observability import configure_logging, get_logger, log_context, log_event, setup_tracing
from ..settings import SettingsError

log = get_logger("handlers.gateway")


class BadEvent(ValueError):
    pass


@functools.lru_cache(maxsize=1)
def _gateway() -> Gateway:
    return Gateway.from_env()


def reset() -> None:
    """Forget the cached service (tests change the environment, or install their own with monkeypatch)."""
    _gateway.cache_clear()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    configure_logging()
    setup_tracing()
    context_id = getattr(context, "aws_request_id", None)
    request_context = event.get("requestContext") if isinstance(event, Mapping) else None
    request_id = (request_context or {}).get("requestId") or context_id
    with log_context(request_id=request_id):
        try:
            request = to_request(event)
        except BadEvent as exc:
            log_event(log, "rejected event", logging.WARNING, error=str(exc))
            return to_proxy(error_response(400, str(exc)))
        with log_context(method=request.method, path=request.path, caller=request.caller):
            try:
                response = _gateway().handle(request)
            except SettingsError as exc:
                log_event(log, "misconfigured", logging.ERROR, error=str(exc))
                response = error_response(500, f"the gateway is misconfigured; its logs say why (request id "
                                               f"{request_id})")
            except Exception:  # noqa: BLE001 - logged with the traceback; the caller gets a request id, no internals
                log.exception("unhandled error", extra={"fields": {}})
                response = error_response(500, f"internal error; the gateway's logs have the details (request id "
                                               f"{request_id})")
            log_event(log, "answered", status=response.status, body_bytes=len(request.body))
            return to_proxy(response)


def to_request(event: Any) -> HttpRequest:
    if not isinstance(event, Mapping) or event.get("version") != "2.0":
        raise BadEvent("not an API Gateway HTTP API event (payload format version 2.0)")
    http = (event.get("requestContext") or {}).get("http") or {}
    method, path = http.get("method"), event.get("rawPath") or http.get("path")
    if not isinstance(method, str) or not isinstance(path, str):
        raise BadEvent("the event has no requestContext.http.method or rawPath")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body")
    if raw is None:
        body = b""
    elif event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadEvent("isBase64Encoded is true but the body is not base64") from None
    else:
        body = raw.encode("utf-8")
    request_context = event.get("requestContext") or {}
    return HttpRequest(method, path, headers, body, request_context.get("requestId"), caller_of(request_context))


def caller_of(request_context: Mapping[str, Any]) -> str | None:
    """The token's name (Lambda authorizer) or the signing principal (IAM auth)."""
    authorizer = request_context.get("authorizer") or {}
    token_name = (authorizer.get("lambda") or {}).get("token_name")
    if token_name:
        return f"token:{token_name}"
    iam = authorizer.get("iam") or {}
    principal = iam.get("userArn") or iam.get("userId")
    return f"iam:{principal}" if principal else None


def to_proxy(response: HttpResponse) -> dict[str, Any]:
    headers = {"content-type": response.content_type, **{k.lower(): v for k, v in response.headers.items()}}
    if is_text(response.content_type):
        try:
            return {"statusCode": response.status, "headers": headers, "body": response.body.decode("utf-8"),
                    "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"statusCode": response.status, "headers": headers,
            "body": base64.b64encode(response.body).decode("ascii"), "isBase64Encoded": True}
