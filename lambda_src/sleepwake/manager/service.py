"""The sleep/wake service: read, decide (sleepwake.domain.lifecycle), commit conditionally, then act.

Only the caller whose conditional commit succeeded acts on SageMaker, so concurrent wakes create one endpoint
and activity recorded between a sleep decision and its commit cancels the delete. Before any delete the facts
that could forbid it (tags, status, latest activity) are read again and the decision is taken again with them.

The tick works in batches so that a fleet of hundreds of endpoints costs a few calls a minute: one listing of
every endpoint's status, one scan of the state table, one tag discovery and one CloudWatch read, each paged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from sleepwake.aws import clients as aws
from sleepwake.aws.endpoints import SageMakerEndpoints
from sleepwake.aws.fleet import CloudWatchActivity, FleetDiscovery
from sleepwake.aws.notify import Notifier, describe
from sleepwake.aws.store import StateStore
from sleepwake.common.clock import Clock, SystemClock
from sleepwake.common.errors import BadEvent, SettingsError
from sleepwake.common.observability import get_logger, log_context, log_event
from sleepwake.common.timefmt import iso
from sleepwake.domain import usage
from sleepwake.domain.lifecycle import (
    FAILED,
    Confirmation,
    Intent,
    Observed,
    Plan,
    Record,
    capacity_message,
    decide,
    is_capacity_failure,
    keep_warm_of,
    serving_type,
    utc_day,
    wake_estimate,
)
from sleepwake.domain.pricing import known_price
from sleepwake.domain.report import day_bounds, day_report
from sleepwake.domain.report import render as render_report
from sleepwake.domain.settings import EndpointSpec, Settings
from sleepwake.manager.teardown import delete_endpoints

log = get_logger("manager")
MAX_ATTEMPTS = 6


def _report_fields(report: dict[str, Any]) -> dict[str, Any]:
    """The report's headline figures, flat, for the log line the dashboard reads."""
    cheapest = report.get("cheapest_policy")
    policies = report.get("policies", {})
    return {
        "day": report.get("day"),
        "instance_type": report.get("instance_type"),
        "awake_hours": report.get("awake_hours"),
        "cost_usd": report.get("cost_usd"),
        "always_on_usd": report.get("always_on_usd"),
        "saved_usd": report.get("saved_usd"),
        "wakes": report.get("wakes"),
        "requests_waited": report.get("requests_waited"),
        "wait_p95_seconds": report.get("wait_p95_seconds"),
        "cheapest_policy": cheapest,
        "cheapest_total_usd": policies.get(cheapest, {}).get("total_usd"),
    }


class ContentionError(RuntimeError):
    """The record kept changing under us; the next tick will try again."""


class _NextConfiguration(Exception):
    """CreateEndpoint was refused for capacity and the record now points at the next instance type: decide again
    (the same call creates the endpoint on it)."""


@dataclass(frozen=True)
class Prefetched:
    """What a batched tick already read for one endpoint; used for the first decision only."""

    record: Record
    observed: Observed | None
    activity_at: float | None


@dataclass
class Manager:
    settings: Settings
    store: StateStore
    endpoints: SageMakerEndpoints
    notifier: Notifier
    clock: Clock
    activity: CloudWatchActivity | None = field(default_factory=CloudWatchActivity)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> "Manager":
        return cls(
            settings,
            StateStore(settings.table_name),
            SageMakerEndpoints(),
            Notifier(settings.notify_topic_arn),
            clock or SystemClock(),
            CloudWatchActivity() if settings.cloudwatch_activity else None,
        )

    @property
    def discovery(self) -> FleetDiscovery | None:
        if not self.settings.fleet_enabled:
            return None
        return FleetDiscovery(self.settings.fleet_tag_key, self.settings.fleet_tag_value)

    # ---- which endpoints are ours -------------------------------------------------------------------------
    def spec(self, name: str, record: Record | None = None) -> EndpointSpec:
        """Declared in Terraform, remembered as a fleet endpoint we put to sleep, or tagged to opt in now."""
        if name in self.settings.endpoints:
            return self.settings.endpoints[name]
        record = record if record is not None else self.store.get(name)
        if record.fleet and self.settings.fleet_enabled:
            return self._fleet_spec(name, record.tags or {}, record)
        discovery = self.discovery
        if discovery is not None:
            tags = self.endpoints.tags(name)
            if discovery.opted_in(tags):
                return self._fleet_spec(name, tags, record)
        known = ", ".join(sorted(self.settings.endpoints)) or "none declared"
        fleet = (
            f"; fleet endpoints carry the tag {self.settings.fleet_tag_key}={self.settings.fleet_tag_value}"
            if discovery
            else ""
        )
        raise SettingsError(f"endpoint {name!r} is not managed here (declared: {known}{fleet})")

    def _fleet_spec(self, name: str, tags: dict[str, str], record: Record) -> EndpointSpec:
        return EndpointSpec(
            name=name,
            endpoint_config_name=record.endpoint_config_name,
            instance_type=None,
            tags=dict(tags),
            keep_warm=tags.get(self.settings.keep_warm_tag_key),
            fleet=True,
        )

    def catalog(self, observed_all: dict[str, Observed], records: dict[str, Record]) -> dict[str, EndpointSpec]:
        specs: dict[str, EndpointSpec] = dict(self.settings.endpoints)
        discovery = self.discovery
        if discovery is None:
            return specs
        tagged = discovery.tagged()
        by_lower = {name.lower(): name for name in observed_all}
        for lower, found in tagged.items():
            name = by_lower.get(lower)
            if name is not None and name not in specs:
                specs[name] = self._fleet_spec(name, dict(found.tags), records.get(name) or Record(name))
        for name, record in records.items():
            if record.fleet and name not in specs and name not in observed_all:
                specs[name] = self._fleet_spec(name, record.tags or {}, record)  # asleep: ours to bring back
        return specs

    # ---- actions ------------------------------------------------------------------------------------------
    def wake(self, name: str, *, reset_failures: bool = False) -> dict[str, Any]:
        return self.run(Intent.WAKE, name, reset_failures=reset_failures)

    def sleep(self, name: str, *, force: bool = False) -> dict[str, Any]:
        return self.run(Intent.SLEEP, name, force=force)

    def status(self, name: str) -> dict[str, Any]:
        return self.run(Intent.STATUS, name)

    def status_all(self) -> dict[str, Any]:
        """Every managed endpoint: state, idle time, next decision, cost today (batched reads only)."""
        now = self.clock.now()
        observed_all = self.endpoints.list_all()
        records, corrupt = self.store.scan_endpoints_checked()
        specs = self.catalog(observed_all, records)
        activity = self._activity(specs, observed_all, now)
        rows = [
            self.run(
                Intent.STATUS,
                name,
                prefetched=Prefetched(records.get(name) or Record(name), observed_all.get(name), activity.get(name)),
                spec=spec,
            )
            for name, spec in sorted(specs.items())
            if name not in corrupt
        ]
        answer = {
            "ok": not corrupt,
            "endpoints": rows,
            "count": len(rows),
            "cost_today_usd": round(sum(r["cost_today_usd"] or 0.0 for r in rows), 4),
        }
        if corrupt:
            answer["errors"] = [
                {"endpoint_name": n, "error": f"corrupt record: {p}"} for n, p in sorted(corrupt.items())
            ]
        return answer

    # ---- the savings report ---------------------------------------------------------------------------------
    def report(self, name: str, day: str | None = None, *, record: Record | None = None) -> dict[str, Any]:
        """One endpoint's day (today so far by default): awake hours and cost, always-on, wakes, waits, and every
        idle policy replayed on the recorded traffic (sleepwake.domain.report). Reads only; changes nothing."""
        now = self.clock.now()
        day = self._report_day(day, now)
        record = record if record is not None else self.store.get(name)
        spec = self.spec(name, record)
        itype = serving_type(spec, record)
        report = day_report(
            record,
            day,
            now,
            instance_type=itype,
            hourly_price=known_price(itype, spec.instance_count) if itype else None,
            wake_seconds=wake_estimate(record, self.settings),
            idle_timeout_seconds=float(self.settings.idle_timeout_seconds),
            penalty_seconds=None
            if self.settings.cold_start_penalty_seconds is None
            else float(self.settings.cold_start_penalty_seconds),
            min_ready_seconds=float(self.settings.min_in_service_seconds),
            policy=self.settings.policy,
        )
        return {"ok": True, **report, "text": render_report(report)}

    def report_all(self, day: str | None = None) -> dict[str, Any]:
        now = self.clock.now()
        day = self._report_day(day, now)
        records, corrupt = self.store.scan_endpoints_checked()
        specs = self.catalog(self.endpoints.list_all() if self.settings.fleet_enabled else {}, records)
        reports = [
            self.report(name, day, record=records.get(name) or Record(name))
            for name in sorted(specs)
            if name not in corrupt
        ]
        answer: dict[str, Any] = {"ok": not corrupt, "day": day, "reports": reports}
        if corrupt:
            answer["errors"] = [
                {"endpoint_name": n, "error": f"corrupt record: {p}"} for n, p in sorted(corrupt.items())
            ]
        return answer

    @staticmethod
    def _report_day(day: str | None, now: float) -> str:
        """Today by default; yesterday and today are kept (sleepwake.domain.usage), anything else is refused."""
        today = utc_day(now)
        if day is None:
            return today
        try:
            start, _ = day_bounds(day)
        except ValueError as exc:
            raise BadEvent(str(exc)) from None
        if start > now:
            raise BadEvent(f"day {day} has not begun yet (today is {today} UTC)")
        if start < usage.horizon(now):
            raise BadEvent(f"day {day} is too old: the manager keeps per-minute history for yesterday and today only")
        return day

    def daily_reports(self, records: dict[str, Record] | None) -> int:
        """Once a day, with a notification topic: the first tick of a day notifies yesterday's report of every
        endpoint tracked then. `reported_day` is committed first (conditionally), so it is sent once."""
        if not self.settings.notify_topic_arn or records is None:
            return 0
        now = self.clock.now()
        yesterday = utc_day(now - 86400)
        sent = 0
        for name, record in sorted(records.items()):
            if record.reported_day == yesterday or record.tracked_since is None:
                continue
            if record.tracked_since >= now - now % 86400:
                continue  # first seen today: nothing to say about yesterday
            try:
                fresh = self.store.get(name)
                if fresh.reported_day == yesterday or not self.store.commit(
                    fresh, replace(fresh, reported_day=yesterday)
                ):
                    continue
                report = self.report(name, yesterday, record=fresh)
            except Exception as exc:
                log_event(log, "daily report failed", logging.ERROR, endpoint_name=name, error=aws.error_message(exc))
                continue
            figures = {k: v for k, v in report.items() if k not in ("ok", "text")}
            log_event(log, "daily report", endpoint_name=name, **_report_fields(report))
            self.notifier.publish({"event": "daily-report", "environment": self.settings.environment, **figures})
            sent += 1
        return sent

    def tick(self) -> dict[str, Any]:
        """The schedule: reconcile every managed endpoint. No single failing call stops the tick: a failed batched
        read falls back to per-endpoint reads (or, for activity, to "in use"), a corrupt record or a failing
        endpoint is reported and the others go on. Errors are in the answer's `errors` and the log."""
        now = self.clock.now()
        errors: list[dict[str, str]] = []

        def attempt(step: str, read, fallback):
            try:
                return read()
            except Exception as exc:
                log_event(log, "tick step failed", logging.ERROR, step=step, error=aws.error_message(exc))
                errors.append({"step": step, "error": aws.error_message(exc)})
                return fallback

        observed_all = attempt("list endpoints", self.endpoints.list_all, None)
        records, corrupt = attempt("scan records", self.store.scan_endpoints_checked, (None, {}))
        for name, problem in sorted(corrupt.items()):
            log_event(log, "corrupt record left alone", logging.ERROR, endpoint_name=name, error=problem)
            errors.append({"endpoint_name": name, "error": f"corrupt record left alone: {problem}"})
        specs = attempt(
            "find managed endpoints",
            lambda: self.catalog(observed_all or {}, records or {}),
            dict(self.settings.endpoints),
        )
        activity = attempt("read CloudWatch activity", lambda: self._activity(specs, observed_all, now), None)
        results = []
        deletes = 0
        for name, spec in sorted(specs.items()):
            if name in corrupt:
                continue
            prefetched = None
            if observed_all is not None and records is not None:
                observed = observed_all.get(name)
                if observed is not None and observed.status == "Failed":
                    observed = None  # the listing has no failure reason: read it singly
                else:
                    prefetched = Prefetched(
                        records.get(name) or Record(name),
                        observed,
                        activity.get(name) if activity is not None else None,
                    )
            try:
                answer = self.run(
                    Intent.TICK,
                    name,
                    spec=spec,
                    prefetched=prefetched,
                    activity_known=activity is not None,
                    may_delete=deletes < self.settings.max_deletes_per_tick,
                )
            except Exception as exc:
                log_event(log, "tick failed", logging.ERROR, endpoint_name=name, error=aws.error_message(exc))
                errors.append({"endpoint_name": name, "error": aws.error_message(exc)})
                continue
            deletes += "delete" in answer["actions"]
            results.append(answer)
        answer = {"ok": not errors and all(r["ok"] for r in results), "results": results, "deletes": deletes}
        reported = attempt("daily reports", lambda: self.daily_reports(records), 0)
        if reported:
            answer["reports_sent"] = reported
        if errors:
            answer["errors"] = errors
        return answer

    def teardown(self, names: list[str] | tuple[str, ...]) -> dict[str, Any]:
        """Terraform is destroying this manager: delete the endpoints it manages so none is left running unmanaged.

        Only endpoints this manager manages are touched: a name it does not manage is reported, never deleted.
        A fleet endpoint (someone else's, opted in by tag) is treated like a sleep: kept while protected by its
        tag, leased or with a request in flight."""
        now = self.clock.now()
        to_delete, kept = [], []
        for name in sorted(set(names)):
            if name in self.settings.endpoints:
                to_delete.append(name)
                continue
            try:
                spec = self.spec(name)
            except SettingsError:
                kept.append(
                    {
                        "endpoint_name": name,
                        "result": "not-managed",
                        "reason": "not an endpoint this manager manages; left alone",
                    }
                )
                continue
            record = self.store.get(name)
            opted_in, protected = self._tag_facts(spec, self.endpoints.tags(name))
            reason = (
                "protected by its tag"
                if protected
                else "a lease is active"
                if record.lease_active(now)
                else "a request is in flight"
                if record.in_flight(now)
                else "no longer carries the opt-in tag"
                if not opted_in
                else None
            )
            if reason:
                kept.append({"endpoint_name": name, "result": "kept", "reason": reason})
            else:
                to_delete.append(name)
        return delete_endpoints(self.endpoints, to_delete, kept)

    def on_state_change(self, name: str, reported_status: str | None) -> dict[str, Any]:
        """A SageMaker state-change event: reconcile from a fresh read (events can arrive late or out of order)."""
        answer = self.run(Intent.TICK, name)
        answer["reported_status"] = reported_status
        return answer

    def _activity(
        self,
        specs: dict[str, EndpointSpec],
        observed_all: dict[str, Observed] | None,
        now: float,
    ) -> dict[str, float]:
        if self.activity is None:
            return {}
        if observed_all is None:
            awake = list(specs)
        else:
            awake = [n for n in specs if n in observed_all and observed_all[n].status != "Deleting"]
        return self.activity.latest(awake, now)

    # ---- the loop -----------------------------------------------------------------------------------------
    def run(
        self,
        intent: Intent,
        name: str,
        *,
        force: bool = False,
        reset_failures: bool = False,
        spec: EndpointSpec | None = None,
        prefetched: Prefetched | None = None,
        activity_known: bool = True,
        may_delete: bool = True,
    ) -> dict[str, Any]:
        with log_context(endpoint_name=name, intent=intent.value):
            for attempt in range(MAX_ATTEMPTS):
                if attempt == 0 and prefetched is not None:
                    record, observed, activity_at = prefetched.record, prefetched.observed, prefetched.activity_at
                else:
                    record = self.store.get(name)
                    observed = self.endpoints.describe(name)
                    activity_at = None
                spec = spec or self.spec(name, record)
                now = self.clock.now()
                options = dict(
                    force=force,
                    reset_failures=reset_failures,
                    activity_at=activity_at,
                    activity_known=activity_known,
                    may_delete=may_delete,
                )
                plan = decide(intent, record, observed, now, spec, self.settings, **options)
                if plan.needs_confirmation:
                    observed, confirmation = self._confirm(name, spec, now)
                    # The confirmation re-read the activity: it is known now.
                    plan = decide(
                        intent,
                        record,
                        observed,
                        now,
                        spec,
                        self.settings,
                        **{**options, "activity_known": True},
                        confirmation=confirmation,
                    )
                if plan.record != record:
                    if not self.store.commit(record, plan.record, guard_activity=plan.guard_activity):
                        log_event(log, "commit lost a race; deciding again", logging.DEBUG)
                        continue
                    plan = replace(plan, record=replace(plan.record, version=record.version + 1))
                try:
                    plan = self._act(plan, spec, now)
                except _NextConfiguration:
                    prefetched = None
                    continue
                answer = self._answer(plan, spec, observed, now, activity_at)
                log_event(
                    log,
                    "decision",
                    state=answer["state"],
                    sagemaker_status=answer["sagemaker_status"],
                    detail=answer["message"],
                    idle_seconds=answer["idle_seconds"],
                    cost_today_usd=answer["cost_today_usd"],
                    instance_type=answer["instance_type"],
                    serving_reason=answer.get("serving_reason"),
                    effects=[e.kind for e in plan.effects],
                )
                return answer
            raise ContentionError(f"{name}: the state record changed {MAX_ATTEMPTS} times while deciding")

    def _confirm(self, name: str, spec: EndpointSpec, now: float) -> tuple[Observed | None, Confirmation]:
        """Re-read everything that could forbid a delete: status, tags (opt-in, protection), latest activity."""
        observed = self.endpoints.describe(name)
        tags = self.endpoints.tags(name) if observed is not None else {}
        opted_in, protected = self._tag_facts(spec, tags)
        activity_at = None
        if self.activity is not None and observed is not None:
            activity_at = self.activity.latest([name], now).get(name)
        return observed, Confirmation(
            opted_in=opted_in,
            protected_by_tag=protected,
            activity_at=activity_at,
            endpoint_config_name=observed.endpoint_config_name if observed else None,
            tags=tags,
        )

    def _tag_facts(self, spec: EndpointSpec, tags: dict[str, str]) -> tuple[bool, bool]:
        """(opted in: declared, or still carrying the fleet tag; protected by its tag) from the endpoint's tags."""
        discovery = self.discovery
        opted_in = not spec.fleet or (discovery is not None and discovery.opted_in(tags))
        return opted_in, tags.get(self.settings.protect_tag_key, "").lower() == "true"

    def _act(self, plan: Plan, spec: EndpointSpec, now: float) -> Plan:
        for effect in plan.effects:
            if effect.kind == "create":
                config = (
                    effect.detail.get("endpoint_config_name")
                    or spec.endpoint_config_name
                    or plan.record.endpoint_config_name
                )
                try:
                    if not config:
                        raise SettingsError("its endpoint configuration is not known, so it cannot be recreated")
                    # A fleet endpoint comes back with exactly its own tags; declared ones get ours too.
                    created = self.endpoints.create(spec.name, config, spec.tags, mark_managed=not spec.fleet)
                except Exception as exc:
                    if aws.transient(exc) is not None:
                        # Throttled or unavailable: nothing is being created, so release the claim at once (the
                        # wake stays wanted: the next request or tick creates) rather than let it block for the
                        # claim timeout while callers are told the endpoint is being created.
                        self._release_claim(plan.record)
                        raise
                    if self._capacity_fallback(plan, spec, now, exc):
                        raise _NextConfiguration() from None
                    return self._record_create_failure(plan, spec, now, aws.error_message(exc))
                log_event(log, "create_endpoint", created=created, endpoint_config_name=config)
            elif effect.kind == "delete":
                deleted = self.endpoints.delete(spec.name)
                log_event(log, "delete_endpoint", deleted=deleted, reason=effect.detail.get("reason"))
            elif effect.kind == "notify":
                instance = self._instance(spec, plan.record)
                if effect.detail.get("instance_type"):  # the type the event is about (a sleep: the one that served)
                    instance = (effect.detail["instance_type"], instance[1])
                self.notifier.publish(describe(effect.detail, self.settings.environment, *instance))
        return plan

    def _instance(self, spec: EndpointSpec, record: Record) -> tuple[str | None, int]:
        if spec.instance_type:
            return serving_type(spec, record), spec.instance_count
        config = spec.endpoint_config_name or record.endpoint_config_name
        if not config:
            return None, 1
        try:
            found = self.endpoints.instance_of(config)
        except Exception as exc:
            log_event(log, "could not read the endpoint configuration", logging.WARNING, error=str(exc))
            return None, 1
        return found if found else (None, 1)

    def _release_claim(self, claimed: Record) -> None:
        released = replace(claimed, create_claimed_at=None, wake_started_at=None, wakes=max(0, claimed.wakes - 1))
        try:
            self.store.commit(claimed, released)
        except Exception as exc:
            log_event(log, "could not release the create claim", logging.WARNING, error=aws.error_message(exc))

    def _capacity_fallback(self, plan: Plan, spec: EndpointSpec, now: float, exc: Exception) -> bool:
        """CreateEndpoint refused for capacity or an account limit, and another instance type is listed: point the
        record at it (no failure counted, no backoff) and tell the caller to decide again. False otherwise."""
        rec = plan.record
        options = spec.options()
        index = rec.config_index
        if index + 1 >= len(options) or not is_capacity_failure(aws.error_code(exc), aws.error_message(exc)):
            return False
        message = capacity_message(
            options[index][1], options[index + 1][1], f"{aws.error_code(exc)}: {aws.error_message(exc)}"
        )
        moved = replace(
            rec,
            create_claimed_at=None,
            wake_started_at=None,
            wakes=max(0, rec.wakes - 1),
            config_index=index + 1,
            serving_reason=message,
            capacity_fallbacks=rec.capacity_fallbacks + 1,
            last_failure_reason=message,
        )
        if not self.store.commit(rec, moved):
            return True  # someone else moved on: deciding again reads what they wrote
        log_event(log, "create_endpoint refused for capacity", logging.WARNING, detail=message)
        self.notifier.publish(
            describe(
                {
                    "event": "capacity-fallback",
                    "endpoint_name": rec.endpoint_name,
                    "reason": message,
                    "at": now,
                },
                self.settings.environment,
                options[index + 1][1],
                spec.instance_count,
            )
        )
        return True

    def _record_create_failure(self, plan: Plan, spec: EndpointSpec, now: float, reason: str) -> Plan:
        """CreateEndpoint was refused (missing configuration, quota...): back off exactly as for `Failed`."""
        rec = plan.record
        failures = rec.failures + 1
        gave_up = failures > self.settings.max_failure_retries
        delay = self.settings.failure_backoff_seconds * 2 ** (failures - 1)
        failed = replace(
            rec,
            failures=failures,
            last_failure_reason=reason,
            create_claimed_at=None,
            wake_started_at=None,
            wakes=max(0, rec.wakes - 1),
            gave_up=gave_up,
            config_index=0,  # the retry, like the next wake, starts again at the preferred type
            serving_reason=None,
            desired="asleep" if gave_up else "awake",
            next_retry_at=None if gave_up else now + delay,
        )
        self.store.commit(rec, failed)  # best effort: if it races, the next tick sees the endpoint absent again
        self.notifier.publish(
            describe(
                {
                    "event": "failure",
                    "endpoint_name": rec.endpoint_name,
                    "reason": f"CreateEndpoint refused: {reason}",
                    "at": now,
                    "failures": failures,
                    "gave_up": gave_up,
                },
                self.settings.environment,
                serving_type(spec, rec),
                spec.instance_count,
            )
        )
        log_event(log, "create_endpoint refused", logging.ERROR, reason=reason, failures=failures)
        message = f"CreateEndpoint refused: {reason}; " + ("giving up" if gave_up else f"retrying in {delay} s")
        return Plan(FAILED, message, failed, (), retry_after_seconds=None if gave_up else delay, ok=False)

    def _answer(
        self, plan: Plan, spec: EndpointSpec, observed: Observed | None, now: float, activity_at: float | None
    ) -> dict[str, Any]:
        rec = plan.record
        since = rec.idle_since(now, activity_at)
        itype = serving_type(spec, rec)
        price = known_price(itype, spec.instance_count) if itype else None
        answer: dict[str, Any] = {
            "ok": plan.ok,
            "endpoint_name": rec.endpoint_name,
            "state": plan.state,
            "sagemaker_status": observed.status if observed else None,
            "message": plan.message,
            "last_activity": iso(max(filter(None, (rec.last_activity, activity_at)), default=None)),
            "idle_seconds": int(now - since) if since is not None else None,
            "sleeps_at": iso(plan.sleeps_at),
            "lease_expires_at": iso(rec.lease_until) if rec.lease_active(now) else None,
            "protected": plan.protected,
            "fleet": spec.fleet,
            "instance_type": itype,
            "instance_count": spec.instance_count,
            "hourly_price_usd": price,
            "billed_hours": round(rec.billed_seconds_until(now) / 3600.0, 4),
            "cost_today_usd": round(rec.billed_today_seconds(now) / 3600.0 * price, 4) if price else None,
            "actions": [e.kind for e in plan.effects if e.kind != "notify"],
            "wake_estimate_seconds": round(wake_estimate(rec, self.settings), 1),
        }
        if len(spec.options()) > 1:
            # Capacity-aware wake: every type in order, and why the one above serves (or will serve) it.
            answer["instance_types"] = [t for _, t in spec.options()]
            answer["serving_reason"] = rec.serving_reason or "preferred instance type"
            answer["capacity_fallbacks"] = rec.capacity_fallbacks
        if spec.keep_warm:
            answer["keep_warm"] = spec.keep_warm
            _, problem = keep_warm_of(spec)
            if problem:
                answer["keep_warm_error"] = problem  # a bad fleet tag is reported here and otherwise ignored
        if plan.retry_after_seconds is not None:
            answer["retry_after_seconds"] = plan.retry_after_seconds
        if not plan.ok:
            answer["error"] = plan.message
        return answer
