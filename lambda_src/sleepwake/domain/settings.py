"""Configuration from the environment Terraform sets, parsed once into typed settings.

A bad value fails with a message naming the variable (see docs/architecture.md for the contract).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from sleepwake.common.config import ENDPOINT_NAME_RE, INSTANCE_TYPE_RE, parse_int
from sleepwake.common.errors import SettingsError


@dataclass(frozen=True)
class EndpointSpec:
    """What the manager needs to bring an endpoint back.

    Declared endpoints come from Terraform (SLEEPWAKE_ENDPOINTS). Fleet endpoints are found by their opt-in tag;
    their configuration and tags are learnt from SageMaker and remembered before a delete (`fleet=True`)."""

    name: str
    endpoint_config_name: str | None
    instance_type: str | None
    instance_count: int = 1
    protected: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    keep_warm: str | None = None
    fleet: bool = False
    # Capacity-aware wake: every (endpoint configuration, instance type) to try, the preferred first. A wake that
    # fails for capacity or account limits moves to the next one; the next wake starts again at the first.
    # Empty: just (endpoint_config_name, instance_type).
    configs: tuple[tuple[str, str], ...] = ()

    def options(self) -> tuple[tuple[str | None, str | None], ...]:
        """The ordered (configuration, instance type) pairs a wake may use; at least one."""
        return self.configs or ((self.endpoint_config_name, self.instance_type),)

    def option(self, index: int) -> tuple[str | None, str | None]:
        """The pair at `index` (clamped: a list shortened by a deploy falls back to the preferred one)."""
        options = self.options()
        return options[index] if 0 <= index < len(options) else options[0]


@dataclass(frozen=True)
class Settings:
    table_name: str
    endpoints: Mapping[str, EndpointSpec]
    idle_timeout_seconds: int = 900
    min_in_service_seconds: int = 120
    wake_estimate_seconds: int = 480
    failure_backoff_seconds: int = 300
    max_failure_retries: int = 3
    protected: bool = False
    protect_tag_key: str = "sleepwake:protected"
    notify_topic_arn: str | None = None
    environment: str = "default"
    # Fleet mode: manage every endpoint tagged fleet_tag_key=fleet_tag_value (off when the key is None).
    fleet_tag_key: str | None = None
    fleet_tag_value: str = "true"
    keep_warm_tag_key: str = "sleepwake:keep-warm"
    # Read invocations from CloudWatch as activity (for callers that do not record it themselves).
    cloudwatch_activity: bool = True
    # Idle policy (sleepwake.domain.policy): "adaptive" (default), "fixed" (idle_timeout_seconds, checked every tick),
    # "breakeven", "always-on", or a preset such as "fixed-15-15".
    policy: str = "adaptive"
    # What a request that has to wait for a wake is worth, in seconds of the instance's price (None = the wake).
    cold_start_penalty_seconds: int | None = None
    # A create claimed this long ago without an endpoint appearing is considered lost (the claimer died).
    create_claim_timeout_seconds: int = 120
    # The blast-radius cap: at most this many idle endpoints are deleted per tick; the rest wait for the next one.
    max_deletes_per_tick: int = 10
    # SLEEPWAKE_HOURLY_PRICE_OVERRIDES, validated here so that a bad map stops the function at start with its
    # problem named (sleepwake.domain.pricing reads the same variable for every price).
    hourly_price_overrides: tuple[tuple[str, float], ...] = ()

    @property
    def fleet_enabled(self) -> bool:
        return self.fleet_tag_key is not None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def parse_endpoints(raw: str, variable: str = "SLEEPWAKE_ENDPOINTS") -> dict[str, EndpointSpec]:
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{variable} is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise SettingsError(f"{variable} must be a JSON object keyed by endpoint name")
    specs: dict[str, EndpointSpec] = {}
    for name, spec in parsed.items():
        where = f"{variable}[{name!r}]"
        if not ENDPOINT_NAME_RE.match(name):
            raise SettingsError(f"{where}: {name!r} is not a valid SageMaker endpoint name")
        if not isinstance(spec, dict):
            raise SettingsError(f"{where} must be an object")
        unknown = set(spec) - {
            "endpoint_config_name",
            "instance_type",
            "instance_count",
            "protected",
            "tags",
            "keep_warm",
            "configs",
        }
        if unknown:
            raise SettingsError(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
        config = spec.get("endpoint_config_name")
        itype = spec.get("instance_type")
        count = spec.get("instance_count", 1)
        protected = spec.get("protected", False)
        tags = spec.get("tags") or {}
        if not isinstance(config, str) or not config:
            raise SettingsError(f"{where}.endpoint_config_name must be a non-empty string")
        if not isinstance(itype, str) or not itype.startswith("ml."):
            raise SettingsError(f"{where}.instance_type must be an ml.* instance type, got {itype!r}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise SettingsError(f"{where}.instance_count must be a whole number >= 1, got {count!r}")
        if not isinstance(protected, bool):
            raise SettingsError(f"{where}.protected must be true or false")
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            raise SettingsError(f"{where}.tags must be an object of strings")
        keep_warm = spec.get("keep_warm") or None
        if keep_warm is not None:
            if not isinstance(keep_warm, str):
                raise SettingsError(f"{where}.keep_warm must be a string")
            from sleepwake.domain.schedule import KeepWarm

            try:
                KeepWarm.parse(keep_warm)
            except ValueError as exc:
                raise SettingsError(f"{where}.keep_warm: {exc}") from None
        configs = _configs(spec.get("configs"), where, config, itype)
        specs[name] = EndpointSpec(name, config, itype, count, protected, dict(tags), keep_warm, configs=configs)
    return specs


def _configs(raw: object, where: str, config: str, itype: str) -> tuple[tuple[str, str], ...]:
    """The ordered capacity list: [{"endpoint_config_name", "instance_type"}, ...], starting with the preferred
    (`endpoint_config_name`, `instance_type`), no instance type or configuration twice."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise SettingsError(f"{where}.configs must be a non-empty list of {{endpoint_config_name, instance_type}}")
    pairs: list[tuple[str, str]] = []
    for index, entry in enumerate(raw):
        at = f"{where}.configs[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"endpoint_config_name", "instance_type"}:
            raise SettingsError(f"{at} must be an object with exactly endpoint_config_name and instance_type")
        name, kind = entry["endpoint_config_name"], entry["instance_type"]
        if not isinstance(name, str) or not name:
            raise SettingsError(f"{at}.endpoint_config_name must be a non-empty string")
        if not isinstance(kind, str) or not INSTANCE_TYPE_RE.match(kind):
            raise SettingsError(f"{at}.instance_type must be an ml.* instance type such as ml.g5.xlarge, got {kind!r}")
        pairs.append((name, kind))
    if pairs[0] != (config, itype):
        raise SettingsError(
            f"{where}.configs[0] must be the preferred configuration ({config!r}, {itype!r}), got {pairs[0]!r}"
        )
    for what, values in (("instance type", [k for _, k in pairs]), ("configuration", [n for n, _ in pairs])):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise SettingsError(f"{where}.configs lists the {what} {', '.join(twice)} more than once")
    return tuple(pairs)


def _fleet_tag(env: Mapping[str, str]) -> tuple[str | None, str]:
    raw = env.get("SLEEPWAKE_FLEET_TAG", "").strip()
    if not raw:
        return None, "true"
    key, sep, value = raw.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise SettingsError(f"SLEEPWAKE_FLEET_TAG must look like key=value (e.g. auto-maintain=true), got {raw!r}")
    return key.strip(), value.strip()


def _policy(env: Mapping[str, str]) -> str:
    from sleepwake.domain.policy import PRESETS

    name = env.get("SLEEPWAKE_POLICY", "").strip() or "adaptive"
    if name not in PRESETS:
        raise SettingsError(f"SLEEPWAKE_POLICY must be one of {', '.join(PRESETS)}, got {name!r}")
    return name


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    table = env.get("SLEEPWAKE_TABLE_NAME", "").strip()
    if not table:
        raise SettingsError("SLEEPWAKE_TABLE_NAME is not set")
    endpoints_raw = env.get("SLEEPWAKE_ENDPOINTS", "").strip() or "{}"
    fleet_key, fleet_value = _fleet_tag(env)
    endpoints = parse_endpoints(endpoints_raw)
    if not endpoints and fleet_key is None:
        raise SettingsError("SLEEPWAKE_ENDPOINTS is empty and SLEEPWAKE_FLEET_TAG is not set: nothing to manage")
    return Settings(
        table_name=table,
        endpoints=endpoints,
        fleet_tag_key=fleet_key,
        fleet_tag_value=fleet_value,
        keep_warm_tag_key=env.get("SLEEPWAKE_KEEP_WARM_TAG_KEY", "").strip() or "sleepwake:keep-warm",
        cloudwatch_activity=_bool(env, "SLEEPWAKE_CLOUDWATCH_ACTIVITY", True),
        idle_timeout_seconds=parse_int(env, "SLEEPWAKE_IDLE_TIMEOUT_SECONDS", 900, minimum=60),
        min_in_service_seconds=parse_int(env, "SLEEPWAKE_MIN_IN_SERVICE_SECONDS", 120),
        policy=_policy(env),
        cold_start_penalty_seconds=(
            parse_int(env, "SLEEPWAKE_COLD_START_PENALTY_SECONDS", 0)
            if env.get("SLEEPWAKE_COLD_START_PENALTY_SECONDS", "").strip()
            else None
        ),
        wake_estimate_seconds=parse_int(env, "SLEEPWAKE_WAKE_ESTIMATE_SECONDS", 480, minimum=1),
        failure_backoff_seconds=parse_int(env, "SLEEPWAKE_FAILURE_BACKOFF_SECONDS", 300, minimum=1),
        max_failure_retries=parse_int(env, "SLEEPWAKE_MAX_FAILURE_RETRIES", 3, maximum=20),
        protected=_bool(env, "SLEEPWAKE_PROTECTED", False),
        protect_tag_key=env.get("SLEEPWAKE_PROTECT_TAG_KEY", "").strip() or "sleepwake:protected",
        notify_topic_arn=env.get("SLEEPWAKE_NOTIFY_TOPIC_ARN", "").strip() or None,
        environment=env.get("SLEEPWAKE_ENVIRONMENT", "").strip() or "default",
        max_deletes_per_tick=parse_int(env, "SLEEPWAKE_MAX_DELETES_PER_TICK", 10, minimum=1, maximum=1000),
        hourly_price_overrides=_price_overrides(env),
    )


def _price_overrides(env: Mapping[str, str]) -> tuple[tuple[str, float], ...]:
    from sleepwake.domain.pricing import parse_overrides

    try:
        return tuple(sorted(parse_overrides(env.get("SLEEPWAKE_HOURLY_PRICE_OVERRIDES", "")).items()))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
