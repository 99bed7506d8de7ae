"""Entry point of the sleep/wake manager Lambda: `sleepwake.handlers.manager.handler`."""

from __future__ import annotations

import functools
import logging
from typing import Any

from sleepwake.common.errors import BadEvent, SettingsError
from sleepwake.common.observability import get_logger, lambda_entry, log_event
from sleepwake.domain.settings import load_settings
from sleepwake.manager.events import Command, parse
from sleepwake.manager.service import Manager

log = get_logger("handlers.manager")


class TickIncomplete(RuntimeError):
    """The tick went through every endpoint but some step failed: raised after the whole tick so that the
    invocation counts as an error (the manager's errors alarm) while no failure stops the other endpoints."""


@functools.lru_cache(maxsize=1)
def _manager() -> Manager:
    return Manager.from_settings(load_settings())


def reset() -> None:
    """Forget cached settings and clients (tests change the environment between cases)."""
    _manager.cache_clear()


@lambda_entry
def handler(event: Any, context: Any = None) -> dict[str, Any]:
    try:
        manager = _manager()
    except SettingsError as exc:
        # A misconfigured manager manages nothing: fail the invocation, so the errors alarm fires.
        log_event(log, "bad configuration", logging.ERROR, error=str(exc))
        raise
    try:
        return dispatch(manager, parse(event))
    except (BadEvent, SettingsError) as exc:
        log_event(log, "rejected event", logging.WARNING, error=str(exc))
        return {"ok": False, "error": str(exc)}


def dispatch(manager: Manager, command: Command) -> dict[str, Any]:
    if command.kind == "teardown":
        return manager.teardown(command.endpoint_names)
    if command.kind == "noop":
        return {"ok": True, "message": "nothing to do"}
    if command.kind == "tick":
        answer = manager.tick()
        if answer.get("errors"):
            log_event(log, "tick incomplete", logging.ERROR, errors=answer["errors"], results=len(answer["results"]))
            problems = "; ".join(f"{e.get('endpoint_name') or e.get('step')}: {e['error']}" for e in answer["errors"])
            raise TickIncomplete(f"the tick finished with errors: {problems}"[:2000])
        return answer
    if command.kind == "state-change":
        try:
            manager.spec(command.endpoint_name)
        except SettingsError:
            # Neither declared nor opted in: not ours to touch.
            return {
                "ok": True,
                "ignored": True,
                "endpoint_name": command.endpoint_name,
                "message": "not a managed endpoint",
            }
        return manager.on_state_change(command.endpoint_name, command.reported_status)
    if command.endpoint_name is None and (manager.settings.fleet_enabled or len(manager.settings.endpoints) != 1):
        if command.kind == "status":
            return manager.status_all()
        if command.kind == "report":
            return manager.report_all(command.day)
    name = command.endpoint_name or _only_endpoint(manager)
    manager.spec(name)  # raises SettingsError naming what is managed
    if command.kind == "wake":
        return manager.wake(name, reset_failures=command.reset_failures)
    if command.kind == "sleep":
        return manager.sleep(name, force=command.force)
    if command.kind == "report":
        return manager.report(name, command.day)
    return manager.status(name)


def _only_endpoint(manager: Manager) -> str:
    names = sorted(manager.settings.endpoints)
    if len(names) == 1:
        return names[0]
    raise BadEvent(f"endpoint_name is required: this manager manages {', '.join(names)}")
