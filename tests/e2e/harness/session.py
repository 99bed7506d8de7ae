"""One environment deployed on its own emulator: emulator + local Lambda runtime + wiring + Terraform workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import iam_eval, shims
from .emulator import REGION, Emulator
from .runtime import Runtime
from .terraform import ROOT, Workspace
from .wiring import Wiring


@dataclass
class Row:
    scenario: str
    step: str
    expected: str
    got: str
    ok: bool
    at: float = 0.0


@dataclass
class Steps:
    env: str
    rows: list[Row] = field(default_factory=list)
    echo: bool = True
    started: float = field(default_factory=time.monotonic)

    def check(self, scenario: str, step: str, expected: str, got, ok: bool) -> bool:
        row = Row(scenario, step, expected, _short(got), bool(ok), time.monotonic() - self.started)
        self.rows.append(row)
        if self.echo:
            print(
                f"[{self.env}] {'ok  ' if ok else 'FAIL'} {scenario}: {step} | expected {expected} | got {row.got}",
                flush=True,
            )
        return bool(ok)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    def table(self) -> str:
        widths = [10, 44, 40, 52]
        lines = [
            f"{'time':>5}  {'scenario':<{widths[0]}}  {'step':<{widths[1]}}  {'expected':<{widths[2]}}  "
            f"{'got':<{widths[3]}}  ok"
        ]
        for r in self.rows:
            lines.append(
                f"{r.at:4.0f}s  {r.scenario[: widths[0]]:<{widths[0]}}  {r.step[: widths[1]]:<{widths[1]}}  "
                f"{r.expected[: widths[2]]:<{widths[2]}}  {r.got[: widths[3]]:<{widths[3]}}  "
                f"{'ok' if r.ok else 'FAIL'}"
            )
        return "\n".join(lines)


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return " ".join(text.split())[:200]


class Session:
    def __init__(
        self,
        env: str,
        workdir: Path | None = None,
        port: int | None = None,
        keep: bool = False,
        echo: bool = True,
        modules: Path | None = None,
    ) -> None:
        self.env = env
        self.modules = modules
        self.keep = keep
        self.base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"sleepwake-e2e-{env}-"))
        self.base.mkdir(parents=True, exist_ok=True)
        self.emulator = Emulator(port)
        self.steps = Steps(env, echo=echo)
        self.timings: dict[str, float] = {}

    def __enter__(self) -> "Session":
        started = time.monotonic()
        self.emulator.start()
        self.runtime = Runtime(self.emulator.url, self.base / "runtime")
        self.wiring = Wiring(self.emulator, self.runtime)
        shims.HOOKS.invoke_function = self.runtime.invoke_function
        shims.HOOKS.endpoint_status_changed = self.wiring.endpoint_status_changed
        key, secret = self.emulator.admin_key
        self.workspace = Workspace(
            self.base,
            self.env,
            self.emulator.url,
            {
                "AWS_ACCESS_KEY_ID": key,
                "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
            },
            self.modules,
        )
        self.timings["emulator"] = time.monotonic() - started
        return self

    def __exit__(self, *exc) -> None:
        self.runtime.stop()
        self.emulator.stop()
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    # ---------------------------------------------------------------- Terraform
    def deploy(self, variables: dict) -> float:
        self.workspace.prepare(variables)
        first = not (self.workspace.dir / ".terraform").exists()
        if first:
            self.workspace.init()
        # after the first apply the state is the emulator's (the drift check says so): no refresh needed
        return self.workspace.apply(refresh=first)

    def outputs(self) -> dict:
        return self.workspace.outputs()

    # ---------------------------------------------------------------- tools, as a user runs them
    def user_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.emulator.admin_env())
        env.pop("AWS_SESSION_TOKEN", None)
        env["SLEEPWAKE_TF_DIR"] = str(self.workspace.dir)
        return env

    def tool(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.user_env(), capture_output=True, text=True, timeout=120
        )

    # ---------------------------------------------------------------- what is left
    def leftovers(self) -> dict[str, list[str]]:
        c = self.emulator.client
        left = {
            "endpoints": [e["EndpointName"] for e in c("sagemaker").list_endpoints()["Endpoints"]],
            "endpoint configs": [
                e["EndpointConfigName"] for e in c("sagemaker").list_endpoint_configs()["EndpointConfigs"]
            ],
            "models": [m["ModelName"] for m in c("sagemaker").list_models()["Models"]],
            "functions": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
            "event source mappings": [
                m["UUID"] for m in c("lambda").list_event_source_mappings()["EventSourceMappings"]
            ],
            "roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"]],
            "policies": [p["PolicyName"] for p in c("iam").list_policies(Scope="Local")["Policies"]],
            "queues": c("sqs").list_queues().get("QueueUrls", []),
            "buckets": [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
            "tables": c("dynamodb").list_tables()["TableNames"],
            "topics": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
            "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
            "rules": [r["Name"] for r in c("events").list_rules()["Rules"]],
            "log groups": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
            "apis": [a["Name"] for a in c("apigatewayv2").get_apis()["Items"]],
            "scalable targets": [
                t["ResourceId"]
                for t in c("application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")[
                    "ScalableTargets"
                ]
            ],
        }
        return {kind: names for kind, names in left.items() if names}

    def iam_report(self) -> list[str]:
        lines = []
        d = iam_eval.DECISIONS
        for principal, action, resource, why in d.denied:
            lines.append(
                f"DENIED {principal.split('/')[-2] if '/' in principal else principal}: {action} on {resource} ({why})"
            )
        for principal, action, key in sorted(d.unevaluated):
            lines.append(
                f"not evaluated by the emulator: condition {key} of {action} for "
                f"{principal.split('/')[-2] if '/' in principal else principal} (treated as met)"
            )
        for principal, action in sorted(d.unresolved):
            lines.append(
                f"resource not derived (action checked alone): {action} by "
                f"{principal.split('/')[-2] if '/' in principal else principal}"
            )
        return lines

    def function_errors(self) -> list[str]:
        return [f"{i.function}: {i.error}" for i in self.runtime.invocations if not i.ok]
