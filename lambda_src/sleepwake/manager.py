"""The sleep/wake service: read, decide (sleepwake.core), commit conditionally, then act.

Only the caller whose conditional commit succeeded acts on SageMaker, so concurrent wakes create one endpoint
and activity recorded between a sleep decision and its commit cancels the delete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from . import aws
from .clock import Clock, SystemClock
from .core import FAILED, Intent, Observed, Plan, decide
from .endpoints import SageMakerEndpoints
from .notify import Notifier, describe
from .observability import get_logger, log_context, log_event
from .pricing import known_price
from .settings import Settings
from .store import StateStore

log = get_logger("manager")
MAX_ATTEMPTS = 6


class ContentionError(RuntimeError):
    """The record kept changing under us; the next tick will try again."""


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Manager:
    settings: Settings
    store: StateStore
    endpoints: SageMakerEndpoints
    notifier: Notifier
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> "Manager":
        return cls(settings, StateStore(settings.table_name), SageMakerEndpoints(),
                   Notifier(settings.notify_topic_arn), clock or SystemClock())

    # ---- actions ------------------------------------------------------------------------------------------
    def wake(self, name: str, *, reset_failures: bool = False) -> dict[str, Any]:
        return self.run(Intent.WAKE, name, reset_failures=reset_failures)

    def sleep(self, name: str, *, force: bool = False) -> dict[str, Any]:
        return self.run(Intent.SLEEP, name, force=force)

    def status(self, name: str) -> dict[str, Any]:
        return self.run(Intent.STATUS, name)

    def tick(self) -> dict[str, Any]:
        """The schedule: reconcile every managed endpoint; one endpoint's trouble does not stop the others."""
        results, errors = [], []
        for name in sorted(self.settings.endpoints):
            try:
                results.append(self.run(Intent.TICK, name))
            except Exception as exc:  # noqa: BLE001 - collected and re-raised below so the error alarm fires
                log_event(log, "tick failed", logging.ERROR, endpoint_name=name, error=str(exc))
                errors.append((name, exc))
        if errors:
            names = ", ".join(n for n, _ in errors)
            raise RuntimeError(f"tick failed for {names}: {errors[0][1]}") from errors[0][1]
        return {"ok": all(r["ok"] for r in results), "results": results}

    def on_state_change(self, name: str, reported_status: str | None) -> dict[str, Any]:
        """A SageMaker state-change event: reconcile from a fresh read (events can arrive late or out of order)."""
        answer = self.run(Intent.TICK, name)
        answer["reported_status"] = reported_status
        return answer

    # ---- the loop -----------------------------------------------------------------------------------------
    def run(self, intent: Intent, name: str, *, force: bool = False, reset_failures: bool = False) -> dict[str, Any]:
        spec = self.settings.endpoint(name)
        with log_context(endpoint_name=name, intent=intent.value):
            for _ in range(MAX_ATTEMPTS):
                record = self.store.get(name)
                observed = self.endpoints.describe(name)
                now = self.clock.now()
                plan = decide(intent, record, observed, now, spec, self.settings, force=force,
                              reset_failures=reset_failures)
                if plan.needs_tags:
                    tagged = self.endpoints.tags(name).get(self.settings.protect_tag_key, "").lower() == "true"
                    plan = decide(intent, record, observed, now, spec, self.settings, force=force,
                                  reset_failures=reset_failures, protected_by_tag=tagged)
                if plan.record != record and not self.store.commit(record, plan.record,
                                                                   guard_activity=plan.guard_activity):
                    log_event(log, "commit lost a race; deciding again", logging.DEBUG)
                    continue
                if plan.record != record:
                    plan = replace(plan, record=replace(plan.record, version=record.version + 1))
                plan = self._act(plan, now)
                answer = self._answer(plan, observed, now)
                log_event(log, "decision", state=answer["state"], sagemaker_status=answer["sagemaker_status"],
                          detail=answer["message"], effects=[e.kind for e in plan.effects])
                return answer
            raise ContentionError(f"{name}: the state record changed {MAX_ATTEMPTS} times while deciding")

    def _act(self, plan: Plan, now: float) -> Plan:
        spec = self.settings.endpoint(plan.record.endpoint_name)
        for effect in plan.effects:
            if effect.kind == "create":
                try:
                    created = self.endpoints.create(spec.name, spec.endpoint_config_name, spec.tags)
                except Exception as exc:  # noqa: BLE001 - a refused create is a failure to record, not a crash
                    if aws.error_code(exc) in ("ThrottlingException", "ServiceUnavailable", "InternalFailure"):
                        raise
                    return self._record_create_failure(plan, now, aws.error_message(exc))
                log_event(log, "create_endpoint", created=created, endpoint_config_name=spec.endpoint_config_name)
            elif effect.kind == "delete":
                deleted = self.endpoints.delete(spec.name)
                log_event(log, "delete_endpoint", deleted=deleted, reason=effect.detail.get("reason"))
            elif effect.kind == "notify":
                self.notifier.publish(describe(effect.detail, self.settings.environment, spec.instance_type,
                                               spec.instance_count))
        return plan

    def _record_create_failure(self, plan: Plan, now: float, reason: str) -> Plan:
        """CreateEndpoint was refused (missing configuration, quota...): back off exactly as for `Failed`."""
        rec = plan.record
        failures = rec.failures + 1
        gave_up = failures > self.settings.max_failure_retries
        delay = self.settings.failure_backoff_seconds * 2 ** (failures - 1)
        failed = replace(rec, failures=failures, last_failure_reason=reason, create_claimed_at=None,
                         wake_started_at=None, wakes=max(0, rec.wakes - 1), gave_up=gave_up,
                         desired="asleep" if gave_up else "awake", next_retry_at=None if gave_up else now + delay)
        self.store.commit(rec, failed)  # best effort: if it races, the next tick sees the endpoint absent again
        self.notifier.publish(describe(
            {"event": "failure", "endpoint_name": rec.endpoint_name, "reason": f"CreateEndpoint refused: {reason}",
             "at": now, "failures": failures, "gave_up": gave_up}, self.settings.environment,
            self.settings.endpoint(rec.endpoint_name).instance_type, 1))
        log_event(log, "create_endpoint refused", logging.ERROR, reason=reason, failures=failures)
        message = (f"CreateEndpoint refused: {reason}; " +
                   ("giving up" if gave_up else f"retrying in {delay} s"))
        return Plan(FAILED, message, failed, (), retry_after_seconds=None if gave_up else delay, ok=False)

    def _answer(self, plan: Plan, observed: Observed | None, now: float) -> dict[str, Any]:
        rec = plan.record
        spec = self.settings.endpoint(rec.endpoint_name)
        since = rec.idle_since()
        price = known_price(spec.instance_type, spec.instance_count)
        answer: dict[str, Any] = {
            "ok": plan.ok,
            "endpoint_name": rec.endpoint_name,
            "state": plan.state,
            "sagemaker_status": observed.status if observed else None,
            "message": plan.message,
            "last_activity": iso(rec.last_activity),
            "idle_seconds": int(now - since) if since is not None else None,
            "sleeps_at": iso(plan.sleeps_at),
            "lease_expires_at": iso(rec.lease_until) if rec.lease_active(now) else None,
            "protected": plan.protected,
            "instance_type": spec.instance_type,
            "instance_count": spec.instance_count,
            "hourly_price_usd": price,
            "billed_hours": round(rec.billed_seconds_until(now) / 3600.0, 4),
            "actions": [e.kind for e in plan.effects if e.kind != "notify"],
        }
        if plan.retry_after_seconds is not None:
            answer["retry_after_seconds"] = plan.retry_after_seconds
        if not plan.ok:
            answer["error"] = plan.message
        return answer
