"""The tools that run Terraform's own checks: they fail when Terraform fails, and say what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from terraform_support import REPO, require_terraform

TF_DIRS = REPO / "tools" / "tf_dirs.sh"
COVERAGE = REPO / "tools" / "tf_validation_coverage.py"


def _module_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "serverless-endpoint"
    shutil.copytree(
        REPO / "modules" / "serverless-endpoint",
        copy,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "tests"),
    )
    return copy


def _validate(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(TF_DIRS), "validate", str(directory)], capture_output=True, text=True, timeout=600)


def test_validate_passes_on_a_module_and_fails_on_a_broken_copy(tmp_path):
    require_terraform()
    copy = _module_copy(tmp_path)
    assert _validate(copy).returncode == 0

    (copy / "broken.tf").write_text(
        textwrap.dedent("""\
        resource "aws_sns_topic" "broken" {
          nmae = "a misspelt argument"
        }
        """)
    )
    result = _validate(copy)
    assert result.returncode != 0
    assert "FAIL" in result.stdout and "terraform validate" in result.stdout
    assert 'An argument named "nmae" is not expected here' in result.stdout


def test_validate_fails_when_init_fails(tmp_path):
    require_terraform()
    copy = _module_copy(tmp_path)
    versions = copy / "versions.tf"
    versions.write_text(versions.read_text().replace('version = ">= 5.1"', 'version = ">= 99.0"'))
    result = _validate(copy)
    assert result.returncode != 0
    assert "terraform init" in result.stdout


def test_without_terraform_the_check_says_what_is_missing_in_one_line():
    result = subprocess.run(
        [str(REPO / "tools" / "terraform.sh"), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "TERRAFORM": "terraform-not-installed-here"},
        timeout=60,
    )
    assert result.returncode == 3
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("Terraform tests skipped: no terraform binary (install Terraform 1.11.4")


def _coverage(*directories: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(COVERAGE), *map(str, directories)], capture_output=True, text=True)


def test_the_coverage_script_lists_validation_blocks_no_run_expects_to_fail(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "variables.tf").write_text(
        textwrap.dedent("""\
        variable "size" {
          type = number
          validation {
            condition     = var.size >= 1
            error_message = "At least 1."
          }
          validation {
            condition     = var.size <= 10
            error_message = "At most 10."
          }
        }
        """)
    )
    runs = tmp_path / "tests" / "validations.tftest.hcl"
    runs.write_text('run "too_small" {\n  variables {\n    size = 0\n  }\n  expect_failures = [var.size]\n}\n')
    result = _coverage(tmp_path)
    assert result.returncode == 1
    assert "var.size has 2 validation block(s) but 1 run(s) expecting it to fail" in result.stdout

    runs.write_text(
        runs.read_text() + 'run "too_large" {\n  variables {\n    size = 11\n  }\n  expect_failures = [var.size]\n}\n'
    )
    assert _coverage(tmp_path).returncode == 0


def test_no_validation_block_of_the_repository_is_left_untested():
    result = _coverage()
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("every one of the")
