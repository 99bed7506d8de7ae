"""make e2e: every environment applied by the real Terraform to moto and driven through its deployed wiring.

    python -m tests.e2e.run [--env dev|staging|prod|all] [--keep] [--quiet]

Each environment runs in its own process with its own emulator (on a free 127.0.0.1 port), so `--env all`
runs the three side by side; each prints its step table, and the exit status is non-zero when any step failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")

from tests.e2e.harness import scenarios  # noqa: E402
from tests.e2e.harness.session import Session  # noqa: E402

ENVS = ("dev", "staging", "prod")


def _deploy(session: Session, variables: dict, label: str) -> dict | None:
    started = time.monotonic()
    try:
        session.deploy(variables)
    except RuntimeError as exc:
        session.steps.check("terraform", f"apply {label}", "succeeds", str(exc).splitlines()[-12:], False)
        return None
    seconds = time.monotonic() - started
    session.timings[f"apply {label}"] = seconds
    signal = os.environ.pop("SLEEPWAKE_E2E_APPLIED_SIGNAL", None)
    if signal:  # --env all starts the other environments once this first apply is done (2 cores)
        Path(signal).write_text(label)
    session.steps.check("terraform", f"apply {label}", "succeeds", f"{seconds:.0f} s", True)
    out = session.outputs()
    out["name"] = out.get("model_name", "").rsplit("-", 1)[0]
    return out


def _destroy(session: Session) -> None:
    started = time.monotonic()
    try:
        session.workspace.destroy()
        session.steps.check("terraform", "destroy", "succeeds", f"{time.monotonic() - started:.0f} s", True)
    except RuntimeError as exc:
        session.steps.check("terraform", "destroy", "succeeds", str(exc).splitlines()[-12:], False)
    session.timings["destroy"] = time.monotonic() - started
    left = session.leftovers()
    session.steps.check("terraform", "everything left in the emulator", "nothing", left or "nothing", not left)


def _guard(session: Session, name: str, function, *args) -> None:
    try:
        function(session, *args)
    except Exception as exc:  # a scenario that breaks is a failed step, with its reason
        import traceback

        session.steps.check(
            name,
            "scenario ran to the end",
            "no exception",
            f"{type(exc).__name__}: {exc} @ {traceback.extract_tb(exc.__traceback__)[-1].lineno}",
            False,
        )


def run_dev(session: Session) -> None:
    out = _deploy(session, scenarios.realtime_vars("realtime"), "realtime")
    if out is None:
        return
    # the drift check reads the state while the scenario runs (it changes nothing Terraform manages)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        drift = pool.submit(session.workspace.plan_changes)
        _guard(session, "realtime", scenarios.realtime, out)
        changes = drift.result()
    session.steps.check(
        "terraform", "plan after the first apply", "no changes (no drift)", changes or "no changes", not changes
    )
    _guard(session, "realtime", scenarios.leave_work_pending, out)
    for mode, scenario in (("serverless", scenarios.serverless), ("async", scenarios.async_mode), ("realtime", None)):
        out = _deploy(session, scenarios.realtime_vars(mode), f"switch to {mode}")
        if out is None:
            break
        scenarios.check_no_orphans(session, mode)
        if scenario:
            _guard(session, mode, scenario, out)
    _destroy(session)


def run_default(session: Session) -> None:
    """staging and prod: their own terraform.tfvars, unchanged."""
    out = _deploy(session, {}, "terraform.tfvars")
    if out is None:
        return
    scenario = {"async": scenarios.async_mode, "serverless": scenarios.serverless, "realtime": scenarios.realtime}[
        out["inference_mode"]
    ]
    _guard(session, out["inference_mode"], scenario, out)
    _destroy(session)


def run_env(env: str, keep: bool = False, quiet: bool = False, modules: Path | None = None) -> int:
    started = time.monotonic()
    with Session(env, keep=keep, echo=not quiet, modules=modules) as session:
        (run_dev if env == "dev" else run_default)(session)
        report = session.iam_report()
        errors = session.function_errors()
        print(f"\n== {env}: step table ==\n{session.steps.table()}")
        print(f"\n== {env}: IAM as enforced by the emulator ==")
        print("\n".join(report) if report else "no denial; every condition evaluated; every resource derived")
        if errors:
            print(f"\n== {env}: function errors (handled or not) ==\n" + "\n".join(errors[:30]))
        timings = ", ".join(f"{k} {v:.0f} s" for k, v in session.timings.items())
        print(
            f"\n== {env}: {len(session.steps.rows) - len(session.steps.failed)}/{len(session.steps.rows)} steps ok "
            f"in {time.monotonic() - started:.0f} s ({timings}) =="
        )
        if keep:
            print(f"kept: {session.base}")
        return 1 if session.steps.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="all", choices=[*ENVS, "all"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (state, logs)")
    parser.add_argument("--quiet", action="store_true", help="only the tables, not each step as it runs")
    parser.add_argument("--modules", type=Path, help="another copy of modules/ to deploy (tests break one on purpose)")
    args = parser.parse_args(argv)
    check = subprocess.run([str(ROOT / "tools" / "terraform.sh"), "--check"], capture_output=True, text=True)
    if check.returncode != 0:
        print(f"e2e skipped: {check.stdout.strip()}")
        return 0
    if args.env != "all":
        return run_env(args.env, args.keep, args.quiet, args.modules)
    started = time.monotonic()
    logs = {env: ROOT / ".tools" / f"e2e-{env}.log" for env in ENVS}
    logs["dev"].parent.mkdir(parents=True, exist_ok=True)
    signal = ROOT / ".tools" / "e2e-dev.applied"
    signal.unlink(missing_ok=True)
    procs = {}

    def start(env: str, extra_env: dict | None = None) -> None:
        command = [sys.executable, "-m", "tests.e2e.run", "--env", env, "--quiet"] + (["--keep"] if args.keep else [])
        procs[env] = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=logs[env].open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **(extra_env or {})},
        )

    # dev is the longest (four applies); the others start once its first apply is done, so that three
    # Terraform applies do not share the two cores at the start.
    start("dev", {"SLEEPWAKE_E2E_APPLIED_SIGNAL": str(signal)})
    while not signal.exists() and procs["dev"].poll() is None and time.monotonic() - started < 240:
        time.sleep(1)
    for env in ENVS[1:]:
        start(env)
    status = 0
    for env in ENVS:
        code = procs[env].wait()
        print(logs[env].read_text())
        status |= code
    print(f"make e2e: {'all environments passed' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
