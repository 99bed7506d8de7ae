#!/usr/bin/env python3
"""Call a deployed manager and print its answer: `make status|wake|sleep|report ENV=dev [ENDPOINT=name] [FORCE=1]
[DAY=YYYY-MM-DD]`.

Reads the function name from the environment's Terraform outputs, invokes it with boto3 (your AWS credentials)
and prints the JSON answer. Exits 1 when the manager answers ok=false or the function errors.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent


def terraform_output(env: str, name: str, terraform: str) -> str:
    # SLEEPWAKE_TF_DIR: another working directory of the same root (make local-up keeps its state in .local/).
    root = Path(os.environ["SLEEPWAKE_TF_DIR"]) if os.environ.get("SLEEPWAKE_TF_DIR") else ROOT / "environments" / env
    if not root.is_dir():
        raise SystemExit(
            f"no environment {env!r} under environments/ (have: "
            f"{', '.join(sorted(p.name for p in (ROOT / 'environments').iterdir() if p.is_dir()))})"
        )
    result = subprocess.run([terraform, f"-chdir={root}", "output", "-raw", name], capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(
            f"could not read output {name!r} of environments/{env}: is it applied? {result.stderr.strip()}"
        )
    return result.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["status", "wake", "sleep", "report"])
    parser.add_argument("--env", required=True)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--force", action="store_true", help="sleep: skip the idle and grace checks")
    parser.add_argument("--day", default="", help="report: the UTC day YYYY-MM-DD (default today; yesterday kept)")
    parser.add_argument("--terraform", default="terraform")
    args = parser.parse_args(argv)
    function = terraform_output(args.env, "manager_function_name", args.terraform)
    event: dict = {"action": args.action}
    if args.endpoint:
        event["endpoint_name"] = args.endpoint
    if args.force:
        event["force"] = True
    if args.day:
        event["day"] = args.day
    answer = boto3.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    body = json.loads(answer["Payload"].read() or b"null")
    if args.action == "report" and isinstance(body, dict) and body.get("ok"):
        # The readable text first, then the figures.
        for report in body.get("reports", [body]):
            print(report.get("text", ""))
        print()
    print(json.dumps(body, indent=2))
    return 1 if answer.get("FunctionError") or not (isinstance(body, dict) and body.get("ok")) else 0


if __name__ == "__main__":
    sys.exit(main())
