"""The Lambda zip is deterministic and every handler imports from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.slow  # builds the zip twice (pip downloads wheels on a first run)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_lambda  # noqa: E402

HANDLERS = [
    "sleepwake.handlers.manager.handler",
    "sleepwake.handlers.async_trigger.handler",
    "sleepwake.handlers.async_notify.handler",
    "sleepwake.handlers.gateway.handler",
    "sleepwake.handlers.replay.handler",
    "sleepwake.handlers.replay_control.handler",
    "sleepwake.handlers.authorizer.handler",
]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    first = tmp_path_factory.mktemp("a") / "sleepwake.zip"
    second = tmp_path_factory.mktemp("b") / "sleepwake.zip"
    cache = ROOT / "build" / ".pip-cache"
    return build_lambda.build(first, cache), build_lambda.build(second, cache), first, second


def test_two_builds_are_byte_identical(two_builds):
    digest_a, digest_b, first, second = two_builds
    assert first.read_bytes() == second.read_bytes()
    assert digest_a == digest_b == (first.parent / "sleepwake.zip.base64sha256").read_text().strip()


def test_entries_are_sorted_with_fixed_time_and_no_bytecode(two_builds):
    names = zipfile.ZipFile(two_builds[2]).namelist()
    assert names == sorted(names)
    infos = zipfile.ZipFile(two_builds[2]).infolist()
    assert {i.date_time for i in infos} == {build_lambda.FIXED_TIME}
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert "sleepwake/handlers/manager.py" in names
    assert any(n.startswith("aws_xray_sdk/") for n in names)
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names)  # the runtime provides them


def test_every_handler_imports_from_the_zip_alone(two_builds, tmp_path):
    zipfile.ZipFile(two_builds[2]).extractall(tmp_path)
    code = "; ".join(
        [
            f"import importlib; m = importlib.import_module({h.rsplit('.', 1)[0]!r}); "
            f"assert callable(m.{h.rsplit('.', 1)[1]})"
            for h in HANDLERS
        ]
        + ["import aws_xray_sdk.core"]
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # -S: no site-packages (so not the editable install of lambda_src); boto3 comes from the runtime, as in Lambda
    runtime = str(Path(boto3.__file__).parent.parent)
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path[:0] = [{str(tmp_path)!r}, {runtime!r}]; {code}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def _distribution(requirement: str) -> str:
    return requirement.split("==")[0].strip().lower().replace("-", "_")


def test_the_zip_holds_the_lambda_package_and_its_runtime_dependencies_only(two_builds):
    archive = zipfile.ZipFile(two_builds[2])
    names = archive.namelist()
    wanted = {
        _distribution(line)
        for line in (ROOT / "lambda_src" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    records = {n.split("-")[0].lower(): n for n in names if n.endswith(".dist-info/RECORD")}
    assert set(records) == wanted, "exactly the pinned runtime dependencies, each with its metadata"
    owned = {row.split(",")[0] for record in records.values() for row in archive.read(record).decode().splitlines()}
    strays = [n for n in names if not n.startswith("sleepwake/") and n not in owned]
    assert strays == [], "every file is the package's or a pinned dependency's"
    # nothing offline: no simulator, trace reader, emulator driver, app client or test double
    assert not [n for n in names if n.startswith(("sleepwake_sim/", "sleepwake_client/", "tests/"))]
    package = {n: archive.read(n).decode() for n in names if n.startswith("sleepwake/") and n.endswith(".py")}
    for double in (
        "class FakeClock",
        "class SimulatedRuntime",
        "class SimulatedLifecycle",
        "def read_trace",
        "def bench(",
        "class SleepwakeClient",
    ):
        assert not [n for n, text in package.items() if double in text], double
    assert "aws_lambda_powertools/__init__.py" in names  # Powertools is bundled, pinned
