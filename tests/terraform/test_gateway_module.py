"""modules/inference-gateway read with python-hcl2 and as text, against the Python package it deploys.

`terraform validate` cannot run here (tools/tfcheck.py checks the schema); these pin the contracts between the
module and the code: the routes, the handlers, the environment variables and their defaults, the authorizer's
shape, the replay switch, and a reason next to every wildcard in the IAM policies.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hcl2
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "modules" / "inference-gateway"
OPTIONS = SerializationOptions(explicit_blocks=True, strip_string_quotes=True, with_comments=False)
sys.path.insert(0, str(REPO / "lambda_src"))

from sleepwake import gateway_settings  # noqa: E402


def load(name: str) -> dict:
    with (MODULE / name).open() as fh:
        return hcl2.load(fh, serialization_options=OPTIONS)


def resource(file: str, kind: str, name: str) -> dict:
    for block in load(file).get("resource", []):
        if kind in block and name in block[kind]:
            return block[kind][name]
    raise KeyError(f"{kind}.{name} not in {file}")


def variable_default(name: str):
    for block in load("variables.tf")["variable"]:
        if name in block:
            return block[name].get("default")
    raise KeyError(name)


def test_the_api_routes_are_the_gateways_routes():
    text = (MODULE / "api.tf").read_text()
    routes = set(re.findall(r'^\s+"((?:GET|POST|DELETE|PUT|PATCH) /[^"]*)",$', text, re.M))
    python_routes = {"GET /requests/{id}"}  # matched by pattern in Gateway.handle; the rest are in a table
    source = (REPO / "lambda_src" / "sleepwake" / "gateway.py").read_text()
    for path, methods in re.findall(r'"(/[a-z]+)": \{([^}]*)\}', source):
        python_routes |= {f"{method} {path}" for method in re.findall(r'"(GET|POST|DELETE)"', methods)}
    assert routes == python_routes == {"POST /invoke", "GET /requests/{id}", "GET /status", "GET /lease",
                                       "POST /lease", "DELETE /lease"}


def test_every_function_uses_a_handler_of_the_package():
    text = "\n".join(p.read_text() for p in MODULE.glob("*.tf"))
    handlers = set(re.findall(r'handler\s+=\s+"(sleepwake\.handlers\.[a-z_]+\.handler)"', text))
    assert handlers == {"sleepwake.handlers.gateway.handler", "sleepwake.handlers.replay.handler",
                        "sleepwake.handlers.replay_control.handler", "sleepwake.handlers.authorizer.handler"}
    build_test = (REPO / "tests" / "test_build.py").read_text()
    assert all(f'"{h}"' in build_test for h in handlers)


def test_every_variable_the_module_sets_is_read_by_the_package():
    text = "\n".join(p.read_text() for p in MODULE.glob("*.tf"))
    names = set(re.findall(r"\b(SLEEPWAKE_[A-Z_]+)\s+=", text))
    package = "\n".join(p.read_text() for p in (REPO / "lambda_src" / "sleepwake").glob("*.py"))
    assert names and all(f'"{name}"' in package for name in names), sorted(
        n for n in names if f'"{n}"' not in package)


def test_module_defaults_match_the_packages_defaults():
    settings = gateway_settings.GatewaySettings
    assert variable_default("max_body_bytes") == settings.max_body_bytes == gateway_settings.DEFAULT_MAX_BODY_BYTES
    assert variable_default("max_lease_minutes") == settings.max_lease_minutes
    assert variable_default("request_retention_days") == settings.request_retention_days
    assert variable_default("result_url_expiry_seconds") == settings.result_url_seconds
    assert variable_default("max_receive_count") == settings.max_receive_count


def test_token_authorizer_is_a_cached_simple_response_request_authorizer():
    authorizer = resource("api.tf", "aws_apigatewayv2_authorizer", "token")
    assert authorizer["authorizer_type"] == "REQUEST"
    assert authorizer["authorizer_payload_format_version"] == "2.0"
    assert authorizer["enable_simple_responses"] is True
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    assert "authorizer_cache_ttl_seconds" in authorizer["authorizer_result_ttl_in_seconds"]
    route = resource("api.tf", "aws_apigatewayv2_route", "this")
    assert "CUSTOM" in route["authorization_type"] and "AWS_IAM" in route["authorization_type"]
    integration = resource("api.tf", "aws_apigatewayv2_integration", "gateway")
    assert integration["payload_format_version"] == "2.0" and integration["integration_type"] == "AWS_PROXY"
    stage = resource("api.tf", "aws_apigatewayv2_stage", "this")
    settings = stage["default_route_settings"][0]
    assert "var.throttling_burst_limit" in settings["throttling_burst_limit"]
    assert "var.throttling_rate_limit" in settings["throttling_rate_limit"]
    assert "header" not in stage["access_log_settings"][0]["format"].lower()  # no Authorization in the logs


def test_the_replay_mapping_starts_disabled_and_is_left_to_the_switch():
    mapping = resource("storage.tf", "aws_lambda_event_source_mapping", "replay")
    assert mapping["enabled"] is False
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["lifecycle"][0]["ignore_changes"] == ["enabled"]
    queue = resource("storage.tf", "aws_sqs_queue", "requests")
    assert "deadLetterTargetArn" in queue["redrive_policy"] and "var.max_receive_count" in queue["redrive_policy"]


def test_every_wildcard_resource_has_its_reason_just_above():
    lines = (MODULE / "iam.tf").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.search(r'resources\s+=\s+\[.*("\*"|/\*")', line):
            above = "\n".join(lines[max(0, number - 4):number])
            assert "#" in above, f"iam.tf:{number + 1}: a wildcard without a reason: {line.strip()}"
