"""Every environment root in every inference mode, evaluated offline.

For each environment (dev, staging, prod) and each mode (realtime, serverless, async) the root's terraform.tfvars
is read with `inference_mode` set to that mode, and tools/tfeval.py evaluates what Terraform would plan:

* the root's variable validations pass;
* exactly the mode's module calls are counted in, and their arguments pass the called modules' own validations
  (arguments known only at apply time are deferred, as Terraform defers them);
* every call passes only variables the module declares and every variable without a default (tools/tfcheck.py,
  which also checks every resource of the root and of the modules it calls against the provider schema);
* every mode exports the same outputs: endpoint_name, inference_mode and invoke_policy_arn always, the
  mode-specific ones (api_url; input_bucket, input_prefix, output_path) in their mode and null elsewhere;
* switching modes clashes on no name: each mode's endpoint has its own name, endpoint configurations use
  name_prefix with create_before_destroy, and the manager deletes its endpoint before it is destroyed.
"""

from __future__ import annotations

import importlib.util
import sys
from itertools import permutations
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ["dev", "staging", "prod"]
MODES = ["realtime", "serverless", "async"]
DEFAULT_MODE = {"dev": "realtime", "staging": "async", "prod": "serverless"}
MODULES_BY_MODE = {
    "realtime": {"model", "realtime_endpoint", "manager", "gateway"},
    "serverless": {"model", "serverless_endpoint"},
    "async": {"model", "async_endpoint", "async_jobs"},
}
ENDPOINT_MODULE = {"realtime": "realtime_endpoint", "serverless": "serverless_endpoint", "async": "async_endpoint"}
EVERY_MODE_OUTPUTS = {"endpoint_name", "inference_mode", "invoke_policy_arn"}
MODE_OUTPUTS = {"realtime": {"api_url", "manager_function_name", "wake_command", "status_command", "sleep_command"},
                "serverless": set(),
                "async": {"input_bucket", "input_prefix", "output_path"}}
ROOT_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "providers.tf", "terraform.tfvars",
              "backend.tf.example", "README.md"]


def _load_tool(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tfeval = _load_tool("tfeval")
tfcheck = _load_tool("tfcheck")


def composition(env: str, mode: str) -> "tfeval.Composition":
    inputs = tfeval.parse_tfvars(REPO / "environments" / env / "terraform.tfvars")
    inputs["inference_mode"] = mode
    return tfeval.Composition(REPO / "environments" / env, inputs)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_is_a_complete_root_with_its_default_mode(env):
    root = REPO / "environments" / env
    assert [f for f in ROOT_FILES if not (root / f).is_file()] == []
    assert tfeval.parse_tfvars(root / "terraform.tfvars")["inference_mode"] == DEFAULT_MODE[env]
    # Roots pin Terraform exactly, like .terraform-version.
    assert 'required_version = "' + (REPO / ".terraform-version").read_text().strip() + '"' in (
        root / "versions.tf").read_text()


def test_the_environments_share_one_composition():
    """staging and prod link to dev's composition files: the environments differ only in their tfvars."""
    for env in ("staging", "prod"):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "providers.tf"):
            path = REPO / "environments" / env / name
            assert path.is_symlink() and path.resolve() == (REPO / "environments" / "dev" / name).resolve(), path


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("mode", MODES)
def test_module_calls_and_resources_match_variables_and_schema(env, mode):
    """tfcheck on the root (every module call, whatever its count, against the module's variables) and on each
    module the mode composes (every resource against the hashicorp/aws schema, nested module rules)."""
    root = REPO / "environments" / env
    sources = {(root / call.source).resolve() for call in composition(env, mode).module_calls().values()}
    findings = tfcheck.check_paths([root, *sources])
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("mode", MODES)
def test_each_mode_composes_its_modules_and_they_accept_their_arguments(env, mode):
    plan = composition(env, mode)
    assert plan.report.ok, plan.report.errors
    calls = plan.module_calls()
    assert set(calls) == MODULES_BY_MODE[mode]
    for name, call in calls.items():
        module_dir = (REPO / "environments" / env / call.source).resolve()
        variables = tfeval.variables_of(tfeval.parse_dir(module_dir))
        assert set(call.arguments) <= set(variables), (name, set(call.arguments) - set(variables))
        missing = {v for v, spec in variables.items() if spec.required and v not in call.arguments}
        assert missing == set(), (name, missing)
    for name, report in plan.module_reports().items():
        assert report.ok, (env, mode, name, report.errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_exports_the_same_outputs(env, mode):
    outputs = composition(env, mode).outputs()
    assert outputs["inference_mode"] == mode
    for name in EVERY_MODE_OUTPUTS:
        assert outputs[name] is not None, name
    for other, names in MODE_OUTPUTS.items():
        for name in names:
            if other == mode:
                assert outputs[name] is not None, (mode, name)
            else:
                assert outputs[name] is None, (mode, name)
    # Outputs no mode-specific logic touched are the same set in every mode.
    assert set(outputs) == set(composition(env, "realtime").outputs())


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_mode_has_its_own_endpoint_name(env):
    names = {mode: composition(env, mode).module_calls()[ENDPOINT_MODULE[mode]].arguments["name"] for mode in MODES}
    assert len(set(names.values())) == 3, names
    base = tfeval.parse_tfvars(REPO / "environments" / env / "terraform.tfvars")["name"]
    assert names == {"realtime": base, "serverless": f"{base}-serverless", "async": f"{base}-async"}


@pytest.mark.parametrize(("old", "new"), list(permutations(MODES, 2)))
def test_switching_modes_clashes_on_no_resource_name(old, new):
    """Module instances that differ between two modes never share a name argument, so Terraform can create the
    new mode's resources while it destroys the old ones (only `model` is in both, and it is the same call)."""
    before, after = composition("dev", old).module_calls(), composition("dev", new).module_calls()
    assert set(before) & set(after) == {"model"}
    endpoint_names = {before[ENDPOINT_MODULE[old]].arguments["name"], after[ENDPOINT_MODULE[new]].arguments["name"]}
    assert len(endpoint_names) == 2


def test_endpoint_configurations_roll_over_with_name_prefix_and_create_before_destroy():
    for module in ("realtime-endpoint", "serverless-endpoint", "async-endpoint"):
        blocks = tfeval.parse_dir(REPO / "modules" / module)
        [config] = [b for b in blocks if b.type == "resource" and b.labels[0] == "aws_sagemaker_endpoint_configuration"]
        assert "name_prefix" in config.attrs and "name" not in config.attrs, module
        [lifecycle] = [b for b in config.blocks if b.type == "lifecycle"]
        assert tfeval.Evaluator({}).eval(lifecycle.attrs["create_before_destroy"]) is True, module


def test_the_manager_deletes_its_endpoint_before_it_is_destroyed():
    """The real-time endpoint is the manager's, not Terraform's: a switch away from real-time (or a destroy) must
    not leave it running. The manager module invokes the manager on destroy (CRUD-scoped invocation)."""
    blocks = tfeval.parse_dir(REPO / "modules" / "sleep-wake-manager")
    [invocation] = [b for b in blocks if b.type == "resource" and b.labels == ["aws_lambda_invocation", "teardown"]]
    assert tfeval.Evaluator({}).eval(invocation.attrs["lifecycle_scope"]) == "CRUD"
    manager_call = composition("dev", "realtime").module_calls()["manager"]
    assert manager_call.arguments.get("delete_endpoints_on_destroy", True) is True
