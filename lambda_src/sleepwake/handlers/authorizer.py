"""Entry point of the HTTP API Lambda authorizer (payload 2.0, simple responses):
`sleepwake.handlers.authorizer.handler`.

Answers `{"isAuthorized": true|false}`; API Gateway turns false into 403 and caches the answer per token value
for the authorizer's TTL. A missing Authorization header never gets here (API Gateway answers 401). Infrastructure
failures raise, so callers get a 500 that is not cached, rather than a cached 403. Never logs the token.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Mapping

from ..clock import SystemClock
from ..gateway_settings import load_authorizer_settings
from ..observability import configure_logging, get_logger, log_context, log_event, setup_tracing
from ..tokens import TokenAuthorizer, TokenStore, bearer_token

log = get_logger("handlers.authorizer")


@functools.lru_cache(maxsize=1)
def _authorizer() -> TokenAuthorizer:
    return TokenAuthorizer(TokenStore(load_authorizer_settings().tokens_table), SystemClock())


def reset() -> None:
    _authorizer.cache_clear()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    configure_logging()
    setup_tracing()
    event = event if isinstance(event, Mapping) else {}
    request_id = (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", None)
    with log_context(request_id=request_id):
        token = bearer_token(event.get("headers"), event.get("identitySource"))
        decision = _authorizer().decide(token)
        log_event(log, "authorization", logging.INFO if decision.allowed else logging.WARNING,
                  allowed=decision.allowed, reason=decision.reason, token_name=decision.name,
                  route=event.get("routeKey"))
        return decision.simple_response()
