"""modules/sleep-wake-manager read as text and with python-hcl2: IAM, keep-warm validation, dashboard queries.

The module's inputs and switches are tested by its own `terraform test` (modules/sleep-wake-manager/tests) and
its Lambda environment from the plan (test_lambda_environment_contract.py); these pin what is easier to say
in the module's source terms:

- fleet-mode IAM: deleting needs the opt-in tag on the endpoint, creating and tagging need it in the request,
  and nothing may delete a configuration or a model;
- the plan-time keep_warm validation regex accepts exactly what sleepwake.domain.schedule.KeepWarm.parse accepts
  (checked with Python's re and, where a terraform binary exists, with Terraform's own RE2 `regex()`);
- the dashboard's Logs Insights queries read fields the manager really logs (a wake/sleep cycle on moto).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import textwrap
from contextlib import redirect_stdout
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "modules" / "sleep-wake-manager"
OPTIONS = SerializationOptions(explicit_blocks=True, strip_string_quotes=True, with_comments=False)


def load(name: str) -> dict:
    with (MODULE / name).open() as fh:
        return hcl2.load(fh, serialization_options=OPTIONS)


def policy_documents() -> dict[str, list[dict]]:
    """Every aws_iam_policy_document of the module: its statements, those of dynamic blocks included."""
    documents: dict[str, list[dict]] = {}
    for path in sorted(MODULE.glob("*.tf")):
        for data in load(path.name).get("data", []):
            for name, body in data.get("aws_iam_policy_document", {}).items():
                statements = list(body.get("statement", []))
                for dynamic in body.get("dynamic", []):
                    for block in dynamic.get("statement", {}).get("content", []):
                        statements.append({**block, "_for_each": dynamic["statement"]["for_each"]})
                documents[name] = statements
    return documents


def manager_statements() -> list[dict]:
    return policy_documents()["this"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def conditions(statement: dict) -> dict[str, tuple[str, list]]:
    return {c["variable"]: (c["test"], c["values"]) for c in statement.get("condition", [])}


def wildcard(resource: str) -> bool:
    return "*" in resource


# ---------------------------------------------------------------------------------------------------------
# IAM
# ---------------------------------------------------------------------------------------------------------


def test_fleet_delete_requires_the_opt_in_tag_on_the_endpoint():
    deletes = [s for s in manager_statements() if "sagemaker:DeleteEndpoint" in s["actions"]]
    wide = [s for s in deletes if any(wildcard(r) for r in as_list(s["resources"]))]
    assert [s["sid"] for s in wide] == ["DeleteOptedInEndpoints"]
    statement = wide[0]
    assert statement["_for_each"] == "${var.fleet == null ? [] : [var.fleet]}"
    assert statement["resources"] == ["${local.sagemaker_arn_prefix}:endpoint/*"]
    assert statement.get("effect", "Allow") == "Allow"
    assert conditions(statement) == {
        "aws:ResourceTag/${statement.value.tag_key}": ("StringEquals", ["${statement.value.tag_value}"]),
    }
    # The only other delete names the declared endpoints' exact ARNs.
    assert [s["resources"] for s in deletes if s not in wide] == ["${statement.value}"]


def test_fleet_create_and_tagging_require_the_opt_in_tag_in_the_request():
    opt_in = ("StringEquals", ["${statement.value.tag_value}"])
    on_wildcard_endpoints = [
        s
        for s in manager_statements()
        if {"sagemaker:CreateEndpoint", "sagemaker:AddTags"} & set(s["actions"])
        and "${local.sagemaker_arn_prefix}:endpoint/*" in as_list(s["resources"])
    ]
    sids = sorted(s["sid"] for s in on_wildcard_endpoints)
    assert sids == ["RecreateOptedInEndpoints", "TagOptedInEndpointsOnCreate"]
    for statement in on_wildcard_endpoints:
        assert conditions(statement)["aws:RequestTag/${statement.value.tag_key}"] == opt_in, statement["sid"]
    # AddTags anywhere only as part of CreateEndpoint: the manager can never tag (or opt in) an endpoint itself.
    for statement in manager_statements():
        if "sagemaker:AddTags" in statement["actions"]:
            assert conditions(statement)["sagemaker:TaggingAction"] == ("StringEquals", ["CreateEndpoint"])
            assert statement["actions"] == ["sagemaker:AddTags"], "TaggingAction exists only for AddTags"


def test_fleet_reads_carry_no_tag_condition_so_a_removed_tag_is_noticed():
    reads = {s["sid"]: s for s in manager_statements() if s["sid"] == "ReadEndpoints"}
    assert reads["ReadEndpoints"]["actions"] == ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"]
    assert "condition" not in reads["ReadEndpoints"]


def test_the_configuration_wildcard_grants_create_only_and_nothing_deletes_configurations_or_models():
    for statement in manager_statements():
        for action in statement["actions"]:
            assert "*" not in action, statement["sid"]
            assert action not in ("sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"), statement["sid"]
        if any(r.endswith(":endpoint-config/*") for r in as_list(statement["resources"])):
            assert set(statement["actions"]) <= {"sagemaker:CreateEndpoint", "sagemaker:DescribeEndpointConfig"}


def test_list_and_metric_apis_are_granted_as_the_design_needs():
    by_sid = {s["sid"]: s for s in manager_statements()}
    assert by_sid["ListEndpointStatuses"]["actions"] == ["sagemaker:ListEndpoints"]
    assert by_sid["ReadInvocationMetrics"]["_for_each"] == "${var.cloudwatch_activity ? [1] : []}"
    assert by_sid["ReadInvocationMetrics"]["actions"] == ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"]
    assert by_sid["DiscoverOptedInEndpoints"]["actions"] == ["tag:GetResources"]
    everything = {a for s in manager_statements() for a in s["actions"]}
    assert "sagemaker:DescribeEndpointConfig" in everything


# ---------------------------------------------------------------------------------------------------------
# a helper the keep_warm checks share (wildcards: tests/terraform/test_iam_wildcards.py)
# ---------------------------------------------------------------------------------------------------------


def _balanced(text: str, start: int) -> str:
    """The expression starting at `start`, up to the end of its line once brackets are balanced."""
    depth, out, in_string = 0, [], False
    for index in range(start, len(text)):
        char = text[index]
        if char == '"' and text[index - 1] != "\\":
            in_string = not in_string
        elif not in_string and char in "([{":
            depth += 1
        elif not in_string and char in ")]}":
            depth -= 1
        elif char == "\n" and depth == 0:
            break
        out.append(char)
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------
# keep_warm: plan-time validation == KeepWarm.parse
# ---------------------------------------------------------------------------------------------------------

# Accepted by KeepWarm.parse: every form of its grammar (sleepwake/domain/schedule.py docstring), beyond its own
# VALID_EXAMPLES which are added below.
KEEP_WARM_GOOD = [
    "Sun\t23:59-24:00\tUTC",
    "wed 12:00-13:00 US/Pacific",
    "Mon-Mon 01:00-02:00",
    "Fri 22:00-00:00",
    "sat-sun 00:00-24:00 Etc/UTC",
    "Mon-Fri\n09:00-18:00",
    "Mon-Fri 09:00-18:00 Europe/Paris ; Sat 10:00-12:00 ;Sun 10:00-12:00 Europe/Paris",
    "Thu 06:00-07:00 America/Argentina/Buenos_Aires",
]
# Refused by KeepWarm.parse and by the grammar regex (plus schedule.INVALID_EXAMPLES, added below).
KEEP_WARM_BAD_SYNTAX = [
    "   ",
    ";",
    ";Mon 09:00-10:00",
    "Mon-Fri 9-18",
    "Mon 8:00-17:00",
    "Mon-Fri 09:00 - 18:00",
    "Mon-Fri 009:00-18:00",
    "Mon-Fri 09:0-18:00",
    "Mon-Fri 25:00-26:00",
    "Tues 09:00-18:00",
    "Mon-Tue-Wed 09:00-18:00",
    "Mon,,Tue 09:00-18:00",
    "daily,Mon 09:00-18:00",
    "Mon-Fri 09:00-18:00, Sat 10:00-12:00",
    "Mon-Fri 09:00-18:00 Europe/Pa ris",
    "Mon 09:00-18:00 Europe/Paris!",
    "Mon 09:00-18:00 /Paris",
    "Mon-Fri \u0660\u0669:\u0660\u0660-\u0661\u0668:\u0660\u0660",
]
# Well formed, but the zone does not exist: refused by KeepWarm.parse, and by the zone validation.
KEEP_WARM_BAD_ZONE = [
    "Mon-Fri 09:00-18:00 Europe/Pariss",
    "Mon-Fri 09:00-18:00 CEST",
    "Mon 09:00-10:00 UTC; Tue 09:00-10:00 Mars/Olympus",
]
# Accepted by KeepWarm.parse (str.split() and Python's \s know Unicode spaces) but refused by Terraform, whose
# RE2 \s is ASCII only. Stricter at plan time costs nothing; only the Terraform test checks these.
KEEP_WARM_RE2_STRICTER = ["Mon-Fri\u00a009:00-18:00", "Mon-Fri\u200309:00-18:00"]


def _schedule_examples() -> tuple[list[str], list[str]]:
    from sleepwake.domain import schedule

    return list(getattr(schedule, "VALID_EXAMPLES", ())), list(getattr(schedule, "INVALID_EXAMPLES", ()))


KEEP_WARM_GOOD = _schedule_examples()[0] + KEEP_WARM_GOOD
KEEP_WARM_BAD_SYNTAX = _schedule_examples()[1] + KEEP_WARM_BAD_SYNTAX
KEEP_WARM_BAD = KEEP_WARM_BAD_SYNTAX + KEEP_WARM_BAD_ZONE


def _hcl_unescape(literal: str) -> str:
    out, index = [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while index < len(literal):
        char = literal[index]
        if char == "\\" and index + 1 < len(literal) and literal[index + 1] in escapes:
            out.append(escapes[literal[index + 1]])
            index += 2
            continue
        if literal.startswith(("$${", "%%{"), index):
            out.append(literal[index + 1 : index + 3])
            index += 3
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _endpoints_validations() -> list[tuple[str, str]]:
    """(raw condition text, error_message) of each validation of variable "endpoints", from the source text."""
    text = (MODULE / "variables.tf").read_text()
    start = text.index('variable "endpoints" {')
    body = text[start : text.index('\nvariable "', start + 1)]
    out = []
    for match in re.finditer(r"^  validation \{\n", body, re.M):
        block = body[match.end() :]
        condition = re.search(r"^    condition\s*=\s*", block, re.M)
        message = re.search(r'^    error_message\s*=\s*"((?:[^"\\]|\\.)*)"', block, re.M)
        out.append((_balanced(block, condition.end()).strip(), _hcl_unescape(message.group(1))))
    return out


def keep_warm_validations() -> dict[str, tuple[str, str]]:
    """The keep_warm validations by purpose: grammar, zone -> (condition, error_message)."""
    found = [v for v in _endpoints_validations() if "endpoint.keep_warm" in v[0]]
    assert len(found) == 2, found
    return dict(zip(("grammar", "zone"), found))


def _regex_literals(condition: str) -> list[str]:
    return [_hcl_unescape(m) for m in re.findall(r'regex(?:all)?\("((?:[^"\\]|\\.)*)"', condition)]


def grammar_regex() -> str:
    (pattern,) = _regex_literals(keep_warm_validations()["grammar"][0])
    return pattern


def time_zones() -> list[str]:
    return load("time_zones.tf")["locals"][0]["keep_warm_time_zones"]


def _python_regex(pattern: str) -> re.Pattern:
    # RE2's `$` (without the m flag) is the end of the text; Python's also matches before a final "\n".
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def grammar_accepts(sample: str) -> bool:
    return _python_regex(grammar_regex()).search(sample) is not None


def validation_accepts(sample: str) -> bool:
    """Both validations, mirrored in Python (Terraform's own evaluation is the last keep_warm test)."""
    (zone_pattern,) = _regex_literals(keep_warm_validations()["zone"][0])
    if not grammar_accepts(sample):
        return False
    return all(zone in time_zones() for zone in re.findall(zone_pattern, sample))


def parse_accepts(sample: str) -> bool:
    from sleepwake.domain.schedule import KeepWarm

    try:
        KeepWarm.parse(sample)
    except ValueError:
        return False
    return True


def test_keep_warm_samples_are_classified_by_the_python_parser_as_listed():
    assert len(KEEP_WARM_GOOD) >= 15 and len(KEEP_WARM_BAD) >= 30
    assert [s for s in KEEP_WARM_GOOD + KEEP_WARM_RE2_STRICTER if not parse_accepts(s)] == []
    assert [s for s in KEEP_WARM_BAD if parse_accepts(s)] == []


def test_keep_warm_grammar_regex_is_the_schedule_modules_pattern():
    from sleepwake.domain.schedule import KEEP_WARM_PATTERN

    assert grammar_regex() == KEEP_WARM_PATTERN, "copy sleepwake.domain.schedule.KEEP_WARM_PATTERN into variables.tf"


def test_keep_warm_grammar_regex_accepts_what_the_parser_accepts_and_refuses_its_syntax_errors():
    assert [s for s in KEEP_WARM_GOOD if not grammar_accepts(s)] == []
    assert [s for s in KEEP_WARM_BAD_SYNTAX if grammar_accepts(s)] == []


def test_keep_warm_validations_together_refuse_everything_the_parser_refuses():
    assert [s for s in KEEP_WARM_GOOD if not validation_accepts(s)] == []
    assert [s for s in KEEP_WARM_BAD if validation_accepts(s)] == []


def test_keep_warm_error_messages_show_valid_schedules():
    for purpose, (_, message) in keep_warm_validations().items():
        examples = re.findall(r'"([^"]+)"', message)
        assert examples, f"the {purpose} error message should quote a valid schedule"
        assert [e for e in examples if not parse_accepts(e)] == [], purpose


def test_time_zone_list_is_the_pinned_tzdata_list():
    import importlib.metadata
    import importlib.resources

    pin = re.search(r"^tzdata==(\S+)$", (REPO / "lambda_src" / "requirements.txt").read_text(), re.M)
    assert pin, "lambda_src/requirements.txt should pin tzdata (the zones the manager can load)"
    assert f"tzdata=={pin.group(1)}" in (MODULE / "time_zones.tf").read_text()
    try:
        installed = importlib.metadata.version("tzdata")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("tzdata is not installed here")
    if installed != pin.group(1):
        pytest.skip(f"installed tzdata {installed} is not the pinned {pin.group(1)}")
    zones = importlib.resources.files("tzdata").joinpath("zones").read_text().split()
    assert time_zones() == sorted(zones)


def _terraform() -> str | None:
    return shutil.which(os.environ.get("TERRAFORM") or "terraform")


def _hcl_string(value: str) -> str:
    return (
        '"'
        + value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("${", "$${")
        .replace("%{", "%%{")
        + '"'
    )


@pytest.mark.skipif(_terraform() is None, reason="no terraform binary (install Terraform 1.11.4, .terraform-version)")
def test_keep_warm_validations_mean_the_same_in_terraform(tmp_path: Path):
    """Python's re and Terraform's RE2 differ at the edges: evaluate both conditions, as written, in Terraform."""
    validations = keep_warm_validations()
    samples = KEEP_WARM_GOOD + KEEP_WARM_BAD + KEEP_WARM_RE2_STRICTER
    zones = "[" + ", ".join(_hcl_string(z) for z in time_zones()) + "]"
    conditions = [
        validations[k][0]
        .replace("var.endpoints", "{ x = { keep_warm = sample } }")
        .replace("local.keep_warm_time_zones", zones)
        for k in ("grammar", "zone")
    ]
    expression = (
        "[for sample in ["
        + ", ".join(_hcl_string(s) for s in samples)
        + "] : ["
        + ", ".join(" ".join(c.split()) for c in conditions)
        + "]]"
    )
    result = subprocess.run(
        [_terraform(), "console"],
        input=expression + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
    )
    assert result.returncode == 0, result.stderr
    answers = [a == "true" for a in re.findall(r"\b(true|false)\b", result.stdout)]
    assert len(answers) == 2 * len(samples), result.stdout
    verdicts = {s: (answers[2 * i], answers[2 * i + 1]) for i, s in enumerate(samples)}
    assert {s: v for s, v in verdicts.items() if s in KEEP_WARM_GOOD and v != (True, True)} == {}
    assert {s: v for s, v in verdicts.items() if s in KEEP_WARM_BAD_SYNTAX + KEEP_WARM_RE2_STRICTER and v[0]} == {}
    assert {s: v for s, v in verdicts.items() if s in KEEP_WARM_BAD_ZONE and v != (True, False)} == {}


# ---------------------------------------------------------------------------------------------------------
# dashboard: the Logs Insights queries read what the manager logs
# ---------------------------------------------------------------------------------------------------------


def dashboard_queries() -> dict[str, str]:
    queries = {}
    for name, raw in load("dashboard.tf")["locals"][0]["dashboard_queries"].items():
        lines = raw.splitlines()
        assert lines[0] == "<<-EOT" and lines[-1].strip() == "EOT"
        queries[name] = textwrap.dedent("\n".join(lines[1:-1]))
    return queries


def _flatten(line: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in line.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= _flatten(value, f"{prefix}{key}.")
    return keys


@pytest.fixture
def manager_log_lines(platform) -> list[dict]:
    """The JSON lines a wake, a tick to ready and an idle sleep write, as CloudWatch Logs would receive them."""
    from conftest import ENDPOINT
    from sleepwake.common.observability import configure_logging, log_context

    configure_logging("INFO")
    buffer = io.StringIO()
    with redirect_stdout(buffer), log_context(request_id="req-1"):
        platform.wake_until_ready()
        platform.clock.advance(3600)
        answer = platform.manager.tick()["results"][0]
    assert answer["endpoint_name"] == ENDPOINT and answer["state"] == "sleeping", answer
    return [line for line in buffer.getvalue().splitlines() if line.startswith("{")]


def test_dashboard_queries_read_fields_the_manager_logs(manager_log_lines):
    queries = dashboard_queries()
    assert load("dashboard.tf")["locals"][0]["dashboard_log_source"] == "SOURCE '${local.log_group_name}'"
    assert all(q.startswith("${local.dashboard_log_source}\n| ") for q in queries.values())
    by_message: dict[str, list[dict]] = {}
    raw_by_message: dict[str, list[str]] = {}
    for raw in manager_log_lines:
        line = json.loads(raw)
        by_message.setdefault(line["message"], []).append(line)
        raw_by_message.setdefault(line["message"], []).append(raw)

    def fields_of(message: str, **where: str) -> set[str]:
        lines = [line for line in by_message.get(message, []) if all(line.get(k) == v for k, v in where.items())]
        assert lines, f"no {message!r} log line with {where}"
        return set.union(*(_flatten(line) for line in lines))

    decision = fields_of("decision")
    for field in (
        "endpoint_name",
        "state",
        "sagemaker_status",
        "instance_type",
        "serving_reason",
        "idle_seconds",
        "cost_today_usd",
        "detail",
    ):
        assert f"({field})" in queries["state"] or f"by {field}" in queries["state"], field
        assert field in decision, field
    assert 'filter message = "decision"' in queries["state"]

    create, delete = by_message["create_endpoint"], by_message["delete_endpoint"]
    assert all("endpoint_name" in line for line in create + delete)
    # The wake/sleep counts look for these exact substrings in the raw line (@message).
    assert "'\"created\": true'" in queries["wakes_and_sleeps"]
    assert "'\"deleted\": true'" in queries["wakes_and_sleeps"]
    assert ['"created": true' in raw for raw in raw_by_message["create_endpoint"]] == [True]
    assert ['"deleted": true' in raw for raw in raw_by_message["delete_endpoint"]] == [True]

    sleep = fields_of("notification", event="sleep")
    assert {"endpoint_name", "event", "detail.awake_seconds", "detail.cost_usd"} <= sleep
    assert "detail.awake_seconds" in queries["cost"] and "detail.cost_usd" in queries["cost"]

    notification = fields_of("notification")
    assert {"endpoint_name", "message", "event", "level"} <= notification
    assert "by endpoint_name, message, event" in queries["notifications"]


def test_the_savings_widget_reads_fields_the_daily_report_logs(platform):
    from conftest import ENDPOINT
    from sleepwake.common.observability import configure_logging

    query = dashboard_queries()["savings"]
    assert 'filter message = "daily report"' in query
    p = platform.with_settings(SLEEPWAKE_NOTIFY_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:ops")
    configure_logging("INFO")
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        p.wake_until_ready()
        p.clock.advance(86400)
        assert p.manager.tick()["reports_sent"] == 1
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    [report] = [line for line in lines if line["message"] == "daily report"]
    assert report["endpoint_name"] == ENDPOINT
    for field in re.findall(r"latest\((\w+)\)", query) + ["endpoint_name", "day"]:
        assert field in report, field


def test_dashboard_has_no_custom_metrics_and_finds_endpoints_without_listing_them():
    dashboard = (MODULE / "dashboard.tf").read_text()
    assert "SEARCH('{AWS/SageMaker,EndpointName,VariantName} MetricName=\\\"Invocations\\\"', 'Sum', 300)" in dashboard
    assert 'SCHEMA(\\"AWS/SageMaker\\", EndpointName, VariantName) GROUP BY EndpointName' in dashboard
    # No custom metrics: the widgets read AWS/SageMaker, AWS/Lambda and the manager's log group only.
    namespaces = set(re.findall(r'"(AWS/[A-Za-z]+)"', dashboard)) | set(re.findall(r"\{(AWS/[A-Za-z]+),", dashboard))
    assert namespaces == {"AWS/Lambda", "AWS/SageMaker"}, namespaces
