"""Entry point of the inference gateway Lambda behind the HTTP API: `sleepwake.handlers.gateway.handler`.

Turns an API Gateway HTTP API event (payload format 2.0) into an `HttpRequest`, lets `sleepwake.gateway.service.Gateway`
answer it, and turns the `HttpResponse` back into the proxy answer. Never logs headers or bodies (the
Authorization header carries a token).
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from sleepwake.common.errors import BadEvent, SettingsError
from sleepwake.common.observability import get_logger, lambda_entry, log_context, log_event
from sleepwake.common.parsing import echo
from sleepwake.gateway.service import Gateway, HttpRequest, HttpResponse, error_response, to_response

log = get_logger("handlers.gateway")


@functools.lru_cache(maxsize=1)
def _gateway() -> Gateway:
    return Gateway.from_env()


def reset() -> None:
    """Forget the cached service (tests change the environment, or install their own with monkeypatch)."""
    _gateway.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    context_id = getattr(context, "aws_request_id", None)
    with log_context(request_id=_request_id(event) or context_id):
        try:
            request = to_request(event)
        except BadEvent as exc:
            log_event(log, "rejected event", logging.WARNING, error=str(exc))
            return to_proxy(error_response(400, str(exc)))
        request_id = request.request_id or context_id
        with log_context(method=request.method, path=request.path, caller=request.caller):
            try:
                return _answered(_gateway().handle(request, context), request)
            except SettingsError as exc:
                log_event(log, "misconfigured", logging.ERROR, error=str(exc))
                response = error_response(
                    500, f"the gateway is misconfigured; its logs say why (request id {request_id})"
                )
            except Exception:
                log.exception("unhandled error")
                response = error_response(
                    500, f"internal error; the gateway's logs have the details (request id {request_id})"
                )
            log_event(log, "answered", status=response.status, body_bytes=len(request.body))
            return to_proxy(response)


def _request_id(event: Any) -> str | None:
    """requestContext.requestId for the logs, from whatever arrived (the envelope is validated afterwards)."""
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return request_id if isinstance(request_id, str) else None


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    """An optional object of the envelope: absent or null is empty; anything else but an object is refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadEvent(f"{where} must be an object, got {type(value).__name__}")
    return value


def to_request(event: Any) -> HttpRequest:
    """The HTTP request in an API Gateway HTTP API event (payload 2.0). Every part is checked for its type, so
    a malformed envelope is a 400 naming the part, never an AttributeError."""
    if not isinstance(event, Mapping) or event.get("version") != "2.0":
        raise BadEvent("not an API Gateway HTTP API event (payload format version 2.0)")
    request_context = _mapping(event.get("requestContext"), "requestContext")
    http = _mapping(request_context.get("http"), "requestContext.http")
    method = http.get("method")
    path = event.get("rawPath") if event.get("rawPath") is not None else http.get("path")
    if not isinstance(method, str) or not method or not isinstance(path, str) or not path:
        raise BadEvent("the event has no requestContext.http.method or rawPath (both must be strings)")
    raw_headers = _mapping(event.get("headers"), "headers")
    headers = {}
    for name, value in raw_headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise BadEvent(f"headers must map names to strings; {echo(name)} maps to a {type(value).__name__}")
        headers[name.lower()] = value
    encoded = event.get("isBase64Encoded", False)
    if encoded is None:
        encoded = False
    if not isinstance(encoded, bool):
        raise BadEvent(
            f"isBase64Encoded must be true or false, got {echo(encoded, as_json=True)} ({type(encoded).__name__})"
        )
    raw = event.get("body")
    if raw is None:
        body = b""
    elif not isinstance(raw, str):
        raise BadEvent(
            f"body must be a string (the request body, base64 when isBase64Encoded), got {type(raw).__name__}"
        )
    elif encoded:
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadEvent("isBase64Encoded is true but the body is not base64") from None
    else:
        try:
            body = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise BadEvent("the body is not valid text (unpaired surrogates)") from None
    request_id = request_context.get("requestId")
    return HttpRequest(
        method, path, headers, body, request_id if isinstance(request_id, str) else None, caller_of(request_context)
    )


def caller_of(request_context: Mapping[str, Any]) -> str | None:
    """The token's name (Lambda authorizer) or the signing principal (IAM auth)."""
    authorizer = _mapping(request_context.get("authorizer"), "requestContext.authorizer")
    token_name = _mapping(authorizer.get("lambda"), "requestContext.authorizer.lambda").get("token_name")
    if token_name is not None and not isinstance(token_name, str):
        raise BadEvent("requestContext.authorizer.lambda.token_name must be a string")
    if token_name:
        return f"token:{token_name}"
    iam = _mapping(authorizer.get("iam"), "requestContext.authorizer.iam")
    principal = iam.get("userArn") or iam.get("userId")
    if principal is not None and not isinstance(principal, str):
        raise BadEvent("requestContext.authorizer.iam.userArn must be a string")
    return f"iam:{principal}" if principal else None


def to_proxy(response: HttpResponse) -> dict[str, Any]:
    """An answer given before routing (a malformed event, a misconfigured or failing gateway), serialised by the
    same Powertools response builder as the routes' answers."""
    return ResponseBuilder(to_response(response)).build(APIGatewayProxyEventV2({}))


def _answered(proxy: dict[str, Any], request: HttpRequest) -> dict[str, Any]:
    log_event(log, "answered", status=proxy["statusCode"], body_bytes=len(request.body))
    return proxy
