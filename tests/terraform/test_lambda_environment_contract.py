"""The Terraform-to-Python contract, read from the plan.

environments/dev/contract/lambda_environment.tftest.hcl plans environments/dev in every inference mode with a
mock provider; `terraform test -json -verbose` prints each run's plan in the `terraform show -json` format. Every
aws_lambda_function's planned handler and environment are taken from there and loaded with the package's own
settings loaders, so a variable renamed, dropped or given a value the package refuses fails here, whichever
side changed. The routes the API plans are the routes the gateway serves.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from terraform_support import REPO, require_terraform, terraform

from sleepwake.asyncjobs import settings as async_settings
from sleepwake.domain import settings
from sleepwake.gateway import settings as gateway_settings
from sleepwake.gateway.service import ROUTES, Gateway
from sleepwake.gateway.services import Services

ROOT = REPO / "environments" / "dev"
NAME = "sleepwake-dev"  # environments/dev/terraform.tfvars

# Read straight from os.environ by the logging set-up of every function, not by a settings loader.
READ_BY_OBSERVABILITY = {"SLEEPWAKE_LOG_LEVEL", "SLEEPWAKE_ENVIRONMENT"}


class RecordingEnv(dict):
    """A mapping that remembers which variables were read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def _manager(env: Mapping[str, str]) -> dict[str, Any]:
    return {"manager": settings.load_settings(env)}


def _gateway(env: Mapping[str, str]) -> dict[str, Any]:
    manager_settings, gateway = Services.settings_from_env(env)
    return {"manager": manager_settings, "gateway": gateway}


LOADERS: dict[str, Callable[[Mapping[str, str]], dict[str, Any]]] = {
    "sleepwake.handlers.manager.handler": _manager,
    "sleepwake.handlers.gateway.handler": _gateway,
    "sleepwake.handlers.replay.handler": _gateway,
    "sleepwake.handlers.replay_control.handler": lambda env: {
        "replay_control": gateway_settings.load_replay_control_settings(env)
    },
    "sleepwake.handlers.authorizer.handler": lambda env: {"authorizer": gateway_settings.load_authorizer_settings(env)},
    "sleepwake.handlers.async_trigger.handler": lambda env: {"async": async_settings.load_async_settings(env)},
    "sleepwake.handlers.async_notify.handler": lambda env: {"async": async_settings.load_async_settings(env)},
}


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, dict]:
    """Run name -> the plan, as `terraform show -json` would print it.

    Planned in a copy of environments/dev and the modules, so that `make test`'s own Terraform checks may run in
    the worktree at the same time.
    """
    require_terraform()
    copy = tmp_path_factory.mktemp("contract")
    skip = shutil.ignore_patterns(".terraform")
    shutil.copytree(REPO / "modules", copy / "modules", ignore=skip)
    shutil.copytree(ROOT, copy / "environments" / "dev", ignore=skip)
    shutil.copytree(REPO / "tests" / "terraform" / "mocks", copy / "tests" / "terraform" / "mocks")
    root = copy / "environments" / "dev"
    init = terraform("init", "-backend=false", "-input=false", "-lockfile=readonly", "-no-color", cwd=root)
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform("test", "-json", "-verbose", "-test-directory=contract", "-no-color", cwd=root)
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, "\n".join(m["@message"] for m in messages if m["@level"] == "error")
    return {m["@testrun"]: m["test_plan"] for m in messages if m["type"] == "test_plan"}


def lambdas(plan: dict) -> dict[str, dict]:
    """Each planned function, by address: handler, environment, and the variables unknown until apply."""
    functions = {}
    for change in plan["resource_changes"]:
        if change["type"] != "aws_lambda_function" or "create" not in change["change"]["actions"]:
            continue
        after = change["change"]["after"]
        unknown = (change["change"]["after_unknown"].get("environment") or [{}])[0].get("variables") or {}
        functions[change["address"]] = {
            "handler": after["handler"],
            "environment": (after.get("environment") or [{}])[0].get("variables") or {},
            "unknown": sorted(unknown) if isinstance(unknown, dict) else ["<all>"],
        }
    return functions


def handlers(plan: dict) -> list[str]:
    return sorted(function["handler"] for function in lambdas(plan).values())


def test_each_mode_plans_the_functions_it_needs(plans):
    assert handlers(plans["realtime"]) == sorted(
        [
            "sleepwake.handlers.manager.handler",
            "sleepwake.handlers.gateway.handler",
            "sleepwake.handlers.replay.handler",
            "sleepwake.handlers.replay_control.handler",
            "sleepwake.handlers.authorizer.handler",
        ]
    )
    # IAM auth: no authorizer.
    assert "sleepwake.handlers.authorizer.handler" not in handlers(plans["realtime_fleet_iam_keep_warm_notifications"])
    assert handlers(plans["serverless"]) == []
    assert handlers(plans["async"]) == [
        "sleepwake.handlers.async_notify.handler",
        "sleepwake.handlers.async_trigger.handler",
    ]


@pytest.mark.parametrize(
    "run", ["realtime", "realtime_fleet_iam_keep_warm_notifications", "realtime_capacity_fallback_tags_prices", "async"]
)
def test_every_planned_environment_loads_with_the_packages_settings(plans, run):
    for address, function in lambdas(plans[run]).items():
        assert function["unknown"] == [], f"{address}: {function['unknown']} unknown in the plan (add a mock default)"
        module_name, _, attribute = function["handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), function["handler"]
        env = RecordingEnv(function["environment"])
        LOADERS[function["handler"]](env)  # raises SettingsError naming the variable on a bad value
        unread = set(env) - env.read - READ_BY_OBSERVABILITY
        assert not unread, f"{address} sets {sorted(unread)}, which no settings loader reads"


def _loaded(plan: dict, handler: str) -> dict[str, Any]:
    [function] = [f for f in lambdas(plan).values() if f["handler"] == handler]
    return LOADERS[handler](function["environment"])


def test_the_manager_manages_the_environments_endpoint(plans):
    manager = _loaded(plans["realtime"], "sleepwake.handlers.manager.handler")["manager"]
    assert list(manager.endpoints) == [NAME]
    assert manager.endpoints[NAME].endpoint_config_name.startswith(f"{NAME}-")
    assert manager.table_name == f"{NAME}-state"
    assert not manager.fleet_enabled and manager.notify_topic_arn in (None, "")


def test_the_switches_reach_the_manager_and_the_gateway(plans):
    plan = plans["realtime_fleet_iam_keep_warm_notifications"]
    manager = _loaded(plan, "sleepwake.handlers.manager.handler")["manager"]
    assert manager.fleet_enabled and (manager.fleet_tag_key, manager.fleet_tag_value) == ("auto-maintain", "true")
    assert manager.keep_warm_tag_key == settings.Settings.keep_warm_tag_key
    assert manager.endpoints[NAME].keep_warm is not None
    assert manager.notify_topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    assert manager.idle_timeout_seconds == 30 * 60 and manager.policy == "fixed"
    gateway = _loaded(plan, "sleepwake.handlers.gateway.handler")["gateway"]
    assert gateway.max_lease_minutes == 60


def test_capacity_fallbacks_tags_prices_and_the_fallback_endpoint_reach_the_functions(plans):
    plan = plans["realtime_capacity_fallback_tags_prices"]
    manager = _loaded(plan, "sleepwake.handlers.manager.handler")["manager"]
    spec = manager.endpoints[NAME]
    assert [t for _, t in spec.options()] == ["ml.g4dn.xlarge", "ml.g6.xlarge"]
    assert len({c for c, _ in spec.options()}) == 2
    assert spec.tags == {"Project": "sagemaker-sleepwake", "Environment": "dev", "cost-center": "ml-42"}
    assert dict(manager.hourly_price_overrides) == {"ml.g4dn.xlarge": 0.5, "ml.g6.xlarge": 0.8}
    loaded = _loaded(plan, "sleepwake.handlers.gateway.handler")
    assert loaded["gateway"].fallback_endpoint == f"{NAME}-fallback"
    assert not loaded["gateway"].fallback_by_default
    assert [t for _, t in loaded["manager"].endpoints[NAME].options()] == ["ml.g4dn.xlarge", "ml.g6.xlarge"]


def test_the_gateway_defaults_are_the_packages_defaults(plans):
    loaded = _loaded(plans["realtime"], "sleepwake.handlers.gateway.handler")
    gateway, defaults = loaded["gateway"], gateway_settings.GatewaySettings
    assert gateway.endpoint_name == NAME
    assert gateway.max_body_bytes == defaults.max_body_bytes == gateway_settings.DEFAULT_MAX_BODY_BYTES
    assert gateway.max_lease_minutes == defaults.max_lease_minutes
    assert gateway.request_retention_days == defaults.request_retention_days
    assert gateway.result_url_seconds == defaults.result_url_seconds
    assert gateway.max_receive_count == defaults.max_receive_count


def test_the_async_functions_watch_the_endpoints_inputs(plans):
    loaded = _loaded(plans["async"], "sleepwake.handlers.async_trigger.handler")["async"]
    assert loaded.endpoint_name == f"{NAME}-async"
    assert loaded.input_prefix == "inputs/"
    assert loaded.table_name == f"{NAME}-async-state"


def test_the_api_plans_exactly_the_gateways_routes(plans):
    routes = sorted(
        change["change"]["after"]["route_key"]
        for change in plans["realtime"]["resource_changes"]
        if change["type"] == "aws_apigatewayv2_route"
    )
    env = next(
        f["environment"]
        for f in lambdas(plans["realtime"]).values()
        if f["handler"] == "sleepwake.handlers.gateway.handler"
    )
    Gateway.from_env(env)  # the planned environment builds the gateway
    # the routes its resolver serves, with Powertools' <param> written as API Gateway's {id}
    served = {f"{method} {re.sub(r'<[^>]+>', '{id}', path)}" for method, path, _ in ROUTES}
    assert routes == sorted(served)
