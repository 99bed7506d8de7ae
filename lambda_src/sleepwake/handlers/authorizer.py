"""Entry point of the HTTP API Lambda authorizer (payload 2.0, simple responses):
`sleepwake.handlers.authorizer.handler`.

Answers `{"isAuthorized": true|false}`; API Gateway turns false into 403 and caches the answer per token value
for the authorizer's TTL. A missing Authorization header never gets here (API Gateway answers 401). Infrastructure
failures raise, so callers get a 500 that is not cached, rather than a cached 403. Never logs the token.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from sleepwake.common.clock import SystemClock
from sleepwake.common.observability import get_logger, lambda_entry, log_context, log_event
from sleepwake.common.parsing import clip
from sleepwake.gateway.settings import load_authorizer_settings
from sleepwake.gateway.tokens import TokenAuthorizer, TokenStore, bearer_token

log = get_logger("handlers.authorizer")


@functools.lru_cache(maxsize=1)
def _authorizer() -> TokenAuthorizer:
    return TokenAuthorizer(TokenStore(load_authorizer_settings().tokens_table), SystemClock())


def reset() -> None:
    _authorizer.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = event if isinstance(event, Mapping) else {}
    request_context = event.get("requestContext")
    request_id = request_context.get("requestId") if isinstance(request_context, Mapping) else None
    with log_context(
        request_id=request_id if isinstance(request_id, str) else getattr(context, "aws_request_id", None)
    ):
        headers, identity = event.get("headers"), event.get("identitySource")
        problem = None
        if headers is not None and not isinstance(headers, Mapping):
            problem = f"headers must be an object, got {type(headers).__name__}"
        elif identity is not None and not (isinstance(identity, list) and all(isinstance(v, str) for v in identity)):
            problem = f"identitySource must be a list of strings, got {type(identity).__name__}"
        if problem is not None:
            # A malformed event is refused (403), not an infrastructure failure (500): nothing to retry.
            log_event(log, "authorization", logging.WARNING, allowed=False, reason=f"malformed event: {problem}")
            return {"isAuthorized": False}
        decision = _authorizer().decide(bearer_token(headers, identity))
        route = event.get("routeKey")
        log_event(
            log,
            "authorization",
            logging.INFO if decision.allowed else logging.WARNING,
            allowed=decision.allowed,
            reason=decision.reason,
            token_name=decision.name,
            route=clip(route) if isinstance(route, str) else None,
        )
        return decision.simple_response()
