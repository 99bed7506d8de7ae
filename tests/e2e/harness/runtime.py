"""The local Lambda runtime: each invocation runs the handler the deployed function names, from the package
Terraform uploaded (extracted by its CodeSha256), in a warm worker process with exactly the deployed
environment variables, the deployed timeout, and the credentials of the function's execution role (AssumeRole
on the emulator, whose IAM authorisation is on). Memory size is passed to the code but not enforced."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import iam_eval
from .emulator import ACCOUNT, REGION

WORKER = Path(__file__).with_name("worker.py")


@dataclass
class Invocation:
    function: str
    event: dict
    ok: bool
    result: object
    seconds: float
    error: str = ""


@dataclass
class Worker:
    key: tuple
    process: subprocess.Popen
    reader: object
    busy: bool = False


@dataclass
class Runtime:
    emulator_url: str
    workdir: Path
    clock_offset: float = 0.0
    invocations: list[Invocation] = field(default_factory=list)
    _workers: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        (self.workdir / "code").mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)

    # -- called by the lambda_invoke_runs_handler shim, in a moto request thread (or by the harness)
    def invoke_function(self, fn, event) -> tuple[str, bool, str]:
        started = time.monotonic()
        try:
            answer = self._run(fn, event)
        except Exception as exc:  # the runtime itself failed: report as a function error
            answer = {"ok": False, "errorType": "Runtime.HarnessError", "errorMessage": str(exc)}
        seconds = time.monotonic() - started
        if answer.get("ok"):
            self.invocations.append(Invocation(fn.function_name, event, True, answer.get("result"), seconds))
            return json.dumps(answer.get("result")), False, ""
        error = {"errorType": answer.get("errorType"), "errorMessage": answer.get("errorMessage")}
        self.invocations.append(
            Invocation(fn.function_name, event, False, error, seconds, f"{error['errorType']}: {error['errorMessage']}")
        )
        return json.dumps(error), True, ""

    def _code_dir(self, fn) -> Path:
        target = self.workdir / "code" / fn.code_sha_256.replace("/", "_").replace("+", "-")
        if not target.exists():
            tmp = target.with_suffix(".tmp" + uuid.uuid4().hex[:6])
            with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
                archive.extractall(tmp)
            tmp.rename(target)
        return target

    def _credentials(self, fn) -> dict[str, str]:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        role_name = fn.role.split("/")[-1]
        role = iam_backends[ACCOUNT]["aws"].get_role(role_name)  # raises when the role does not exist
        trust = role.assume_role_policy_document
        trust = json.loads(trust) if isinstance(trust, str) else trust
        context = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": fn.function_arn}
        trusted = [
            st
            for st in iam_eval._as_list(trust.get("Statement"))
            if "lambda.amazonaws.com" in iam_eval._as_list((st.get("Principal") or {}).get("Service"))
        ]
        allowed, why, _ = iam_eval.evaluate([{"Statement": trusted}], "sts:AssumeRole", None, context)
        if not allowed:
            raise RuntimeError(f"role {role_name} does not let Lambda assume it for {fn.function_name}: {why}")
        assumed = sts_backends[ACCOUNT]["aws"].assume_role(
            region_name=REGION,
            role_session_name=fn.function_name,
            role_arn=fn.role,
            policy="",
            duration=3600,
            external_id="",
        )
        return {
            "AWS_ACCESS_KEY_ID": assumed.access_key_id,
            "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
            "AWS_SESSION_TOKEN": assumed.session_token,
        }

    def _environment(self, fn) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key in ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT")
        }
        env.update(
            {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": self.emulator_url,
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
                "_HANDLER": fn.handler,
                "LAMBDA_TASK_ROOT": "",
                "SLEEPWAKE_E2E_FUNCTION_ARN": fn.function_arn,
                "AWS_XRAY_SDK_ENABLED": "false",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        env.update(self._credentials(fn))
        env.update({k: str(v) for k, v in (fn.environment_vars or {}).items()})
        return env

    def _take_worker(self, fn) -> Worker:
        key = (fn.function_name, fn.code_sha_256, fn.handler, json.dumps(fn.environment_vars, sort_keys=True), fn.role)
        with self._lock:
            for worker in self._workers.get(fn.function_name, []):
                if worker.key == key and not worker.busy and worker.process.poll() is None:
                    worker.busy = True
                    return worker
            stale = [w for w in self._workers.get(fn.function_name, []) if w.key != key and not w.busy]
            for worker in stale:
                worker.process.kill()
                self._workers[fn.function_name].remove(worker)
        code = self._code_dir(fn)
        env = self._environment(fn)
        env["LAMBDA_TASK_ROOT"] = str(code)
        read_fd, write_fd = os.pipe()
        env["SLEEPWAKE_E2E_RESULT_FD"] = str(write_fd)
        log = (self.workdir / "logs" / f"{fn.function_name}.log").open("a")
        process = subprocess.Popen(
            [sys.executable, "-u", str(WORKER), str(code), fn.handler],
            env=env,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            text=True,
            pass_fds=(write_fd,),
            cwd=str(code),
        )
        os.close(write_fd)
        worker = Worker(key, process, os.fdopen(read_fd, "r"), busy=True)
        with self._lock:
            self._workers.setdefault(fn.function_name, []).append(worker)
        return worker

    def _run(self, fn, event) -> dict:
        worker = self._take_worker(fn)
        deadline = time.time() + float(fn.timeout)
        request = {
            "event": event,
            "request_id": str(uuid.uuid4()),
            "deadline": deadline,
            "clock_offset": self.clock_offset,
        }
        try:
            worker.process.stdin.write(json.dumps(request, default=str) + "\n")
            worker.process.stdin.flush()
            ready, _, _ = select.select([worker.reader], [], [], float(fn.timeout) + 5)  # +5: cold start
            line = worker.reader.readline() if ready else ""
            if not line:
                worker.process.kill()
                with self._lock:
                    self._workers[fn.function_name].remove(worker)
                if not ready:
                    return {
                        "ok": False,
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"Task timed out after {fn.timeout} seconds",
                    }
                return {"ok": False, "errorType": "Runtime.ExitError", "errorMessage": "the runtime exited"}
            return json.loads(line)
        finally:
            worker.busy = False

    def stop(self) -> None:
        with self._lock:
            for workers in self._workers.values():
                for worker in workers:
                    worker.process.kill()
            self._workers.clear()
