"""Variable validations, evaluated offline by tools/tfeval.py exactly as written in the modules and roots.

Terraform cannot run here, so these tests evaluate the `validation` conditions themselves (parsed by python-hcl2)
on good and bad inputs and check the module's own error_message comes back. The evaluator raises on anything it
does not understand; the last tests prove it never lets such a condition pass.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVERLESS = REPO / "modules" / "serverless-endpoint"
ASYNC = REPO / "modules" / "async-endpoint"
ENVIRONMENTS = ["dev", "staging", "prod"]


def _load_tool(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tfeval = _load_tool("tfeval")

MEMORY_MESSAGE = ("The serverless_config.memory_size_in_mb must be one of 1024, 2048, 3072, 4096, 5120, 6144 "
                  "(1-6 GB in steps of 1024 MB).")
CONCURRENCY_MESSAGE = "The serverless_config.max_concurrency must be a whole number between 1 and 200."
PROVISIONED_RANGE_MESSAGE = ("The serverless_config.provisioned_concurrency must be a whole number between 1 and 200, "
                             "or null (no provisioned concurrency: nothing is billed while idle).")
PROVISIONED_MAX_MESSAGE = ("The serverless_config.provisioned_concurrency must not exceed "
                           "serverless_config.max_concurrency.")
MODE_MESSAGE = "The inference_mode must be one of realtime, serverless, async."


def serverless(**config) -> "tfeval.Report":
    return tfeval.validate(SERVERLESS, {"name": "sentiment-serverless", "model_name": "sentiment-0a1b2c3d",
                                        "serverless_config": config})


def root(env: str, **overrides) -> "tfeval.Report":
    inputs = tfeval.parse_tfvars(REPO / "environments" / env / "terraform.tfvars")
    inputs.update(overrides)
    return tfeval.validate(REPO / "environments" / env, inputs)


# ---- serverless limits -----------------------------------------------------------------------------------------

def test_serverless_defaults_pass_and_fill_in():
    report = serverless()
    assert report.ok, report.errors
    assert report.values["serverless_config"] == {"memory_size_in_mb": 2048, "max_concurrency": 20,
                                                  "provisioned_concurrency": None}


@pytest.mark.parametrize("memory", [1024, 2048, 3072, 4096, 5120, 6144])
def test_every_memory_step_passes(memory):
    assert serverless(memory_size_in_mb=memory).ok


@pytest.mark.parametrize("memory", [1500, 512, 0, 7168, 1024.5, 8192])
def test_memory_off_the_1024_mb_steps_is_rejected(memory):
    assert serverless(memory_size_in_mb=memory).messages() == [MEMORY_MESSAGE]


@pytest.mark.parametrize("concurrency", [0, 201, -1, 2.5])
def test_max_concurrency_outside_1_to_200_is_rejected(concurrency):
    report = serverless(max_concurrency=concurrency)
    assert CONCURRENCY_MESSAGE in report.messages()


@pytest.mark.parametrize("concurrency", [1, 200])
def test_max_concurrency_bounds_pass(concurrency):
    assert serverless(max_concurrency=concurrency).ok


def test_provisioned_concurrency_above_max_concurrency_is_rejected():
    assert serverless(max_concurrency=10, provisioned_concurrency=11).messages() == [PROVISIONED_MAX_MESSAGE]


@pytest.mark.parametrize("provisioned", [0, 201, 1.5])
def test_provisioned_concurrency_outside_1_to_200_is_rejected(provisioned):
    assert PROVISIONED_RANGE_MESSAGE in serverless(max_concurrency=200, provisioned_concurrency=provisioned).messages()


@pytest.mark.parametrize(("maximum", "provisioned"), [(10, 10), (200, 1), (200, 200), (5, None)])
def test_provisioned_concurrency_up_to_max_concurrency_passes(maximum, provisioned):
    assert serverless(max_concurrency=maximum, provisioned_concurrency=provisioned).ok


def test_the_cli_reports_the_modules_message_and_fails(capsys):
    code = tfeval.main([str(SERVERLESS), "--var", 'name="x"', "--var", 'model_name="m"',
                        "--var", 'serverless_config={"memory_size_in_mb": 1500}'])
    assert code == 1
    assert capsys.readouterr().out == f"var.serverless_config: {MEMORY_MESSAGE}\n"


# ---- the inference mode and the mode blocks of every environment --------------------------------------------------

@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environments_tfvars_pass_in_every_mode(env):
    for mode in ("realtime", "serverless", "async"):
        report = root(env, inference_mode=mode)
        assert report.ok, (env, mode, report.errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("mode", ["batch", "Realtime", "", "real-time"])
def test_an_unknown_mode_is_rejected(env, mode):
    assert root(env, inference_mode=mode).errors == {"inference_mode": [MODE_MESSAGE]}


@pytest.mark.parametrize("mode", ["realtime", "serverless", "async"])
def test_a_mode_without_its_settings_block_is_rejected(mode):
    report = root("dev", inference_mode=mode, **{mode: None})
    assert report.errors == {mode: [f"The inference_mode is {mode}, so the {mode} settings block (at least image_uri) "
                                    "must be set in terraform.tfvars."]}


def test_a_gpu_image_for_serverless_is_rejected():
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-gpu-py310"
    report = root("prod", serverless={"image_uri": image})
    assert report.errors["serverless"] == [
        "Serverless endpoints have no GPU: use a CPU inference image for serverless.image_uri (for AWS Deep Learning "
        "Containers, a tag with -cpu- instead of -gpu-)."]


def test_a_root_passes_the_serverless_limits_to_the_module_unchanged():
    """prod's serverless block with memory 1500 fails in the module, where the limits live."""
    inputs = tfeval.parse_tfvars(REPO / "environments" / "prod" / "terraform.tfvars")
    inputs["serverless"] = {**inputs["serverless"], "memory_size_in_mb": 1500}
    composition = tfeval.Composition(REPO / "environments" / "prod", inputs)
    assert composition.module_reports()["serverless_endpoint"].messages() == [MEMORY_MESSAGE]


# ---- async autoscaling ---------------------------------------------------------------------------------------------

def async_inputs(**overrides):
    return {"name": "sentiment-async", "model_name": "sentiment-0a1b2c3d", "instance_type": "ml.g4dn.xlarge",
            **overrides}


def test_async_defaults_scale_to_zero():
    report = tfeval.validate(ASYNC, async_inputs())
    assert report.ok, report.errors
    assert report.values["autoscaling"]["min_capacity"] == 0
    assert report.values["initial_instance_count"] == 1


@pytest.mark.parametrize(("autoscaling", "message"), [
    ({"min_capacity": 2, "max_capacity": 1}, "The autoscaling min_capacity must be a whole number >= 0, max_capacity "
                                             "a whole number >= 1, and min_capacity <= max_capacity."),
    ({"max_capacity": 0}, "The autoscaling min_capacity must be a whole number >= 0, max_capacity a whole number >= 1, "
                          "and min_capacity <= max_capacity."),
    ({"target_backlog_per_instance": 0}, "The autoscaling target_backlog_per_instance must be greater than 0."),
    ({"scale_out_from_zero_cooldown_seconds": 30},
     "The autoscaling cooldowns must be >= 0 seconds, and scale_out_from_zero_cooldown_seconds >= 60 (it must "
     "outlast an instance's start)."),
])
def test_async_autoscaling_limits(autoscaling, message):
    assert tfeval.validate(ASYNC, async_inputs(autoscaling=autoscaling)).messages() == [message]


def test_async_endpoint_needs_an_instance_to_be_created():
    assert tfeval.validate(ASYNC, async_inputs(initial_instance_count=0)).messages() == [
        "The initial_instance_count must be a whole number >= 1 (SageMaker creates no endpoint with zero instances)."]


def test_async_autoscaling_off_is_valid():
    assert tfeval.validate(ASYNC, async_inputs(autoscaling=None)).ok


# ---- the evaluator itself -------------------------------------------------------------------------------------------

def test_every_validation_in_the_repository_is_understood():
    """A condition the evaluator could not read would be an untested validation: every one must pass `check`."""
    checked = 0
    for directory in sorted({p.parent for p in [*REPO.glob("modules/*/*.tf"), *REPO.glob("environments/*/*.tf")]}):
        for variable in tfeval.variables_of(tfeval.parse_dir(directory)).values():
            for condition, message in variable.validations:
                tfeval.Evaluator({}).check(condition)
                tfeval.Evaluator({}).check(message)
                checked += 1
    assert checked > 80


def _module(tmp_path: Path, condition: str, variable_type: str = "string") -> Path:
    (tmp_path / "variables.tf").write_text(
        f'variable "x" {{\n  type = {variable_type}\n  default = null\n\n  validation {{\n'
        f'    condition     = {condition}\n    error_message = "bad x"\n  }}\n}}\n')
    return tmp_path


@pytest.mark.parametrize("condition", [
    'base64decode(var.x) == "a"',                   # a function it does not implement
    'var.x == null || templatefile("t", {}) == ""',  # ... also in an operand whose value would not matter
    'true ? true : uuidv5("dns", "x") == ""',        # ... and in the branch not taken
    '"%{ if var.x != "" }a%{ endif }" == "a"',        # a template directive
    'length({for s in [var.x] : s => s...}) > 0',     # grouping mode of a for expression
    'self.x == "a"',                                 # a reference it does not know
])
def test_an_expression_it_does_not_understand_raises_instead_of_passing(tmp_path, condition):
    with pytest.raises(tfeval.Unsupported):
        tfeval.validate(_module(tmp_path, condition), {"x": "a"})


def test_an_unimplemented_function_is_named(tmp_path):
    with pytest.raises(tfeval.Unsupported, match=r"function base64decode\(\)"):
        tfeval.validate(_module(tmp_path, 'base64decode(var.x) == "a"'), {"x": "a"})


def test_no_short_circuit_a_null_operand_is_an_error_as_in_terraform(tmp_path):
    """`var.x == null || var.x > 1` errors in Terraform for x = null (both operands are evaluated); the modules
    write `var.x == null || try(var.x > 1, false)` for that reason, and the evaluator holds them to it."""
    module = _module(tmp_path, "var.x == null || var.x > 1", "number")
    report = tfeval.validate(module, {"x": None})
    assert report.messages()[0].startswith("error evaluating the condition")
    assert tfeval.validate(_module(tmp_path, "var.x == null || try(var.x > 1, false)", "number"), {"x": None}).ok


def test_object_types_fill_defaults_and_reject_unknown_or_missing_attributes(tmp_path):
    module = _module(tmp_path, "true", "object({ a = number, b = optional(number, 7) })")
    assert tfeval.validate(module, {"x": {"a": 1}}).values["x"] == {"a": 1, "b": 7}
    with pytest.raises(tfeval.EvalError, match="attribute 'a' is required"):
        tfeval.validate(module, {"x": {"b": 1}})
    with pytest.raises(tfeval.EvalError, match=r"unexpected attribute\(s\) \['c'\]"):
        tfeval.validate(module, {"x": {"a": 1, "c": 2}})


def test_values_known_only_at_apply_are_deferred_not_passed(tmp_path):
    composition_inputs = tfeval.parse_tfvars(REPO / "environments" / "dev" / "terraform.tfvars")
    reports = tfeval.Composition(REPO / "environments" / "dev", composition_inputs).module_reports()
    # The model name comes from module.model: its check waits for apply, like Terraform's.
    assert reports["realtime_endpoint"].deferred == {"model_name": 1}
