"""make local-up / local-down: one environment deployed on the emulator and left running.

    python -m tests.e2e.local up --env dev      # starts the server in the background, applies, prints how to use it
    python -m tests.e2e.local down --env dev    # stops it and forgets its state (.local/dev)

The background server is the same harness as `make e2e` (moto with its shims, the local Lambda runtime under each
function's role, the deployed wiring): every 60 s the schedule rules fire, SageMaker state-change events and the
SQS event source mapping are delivered every 2 s, and the HTTP API is served on a second local port. It writes
.local/<env>/local.mk, which the Makefile includes, so `make status|wake|sleep|token-create ENV=<env>` talk to it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")


def state_dir(env: str) -> Path:
    return ROOT / ".local" / env


def serve(env: str) -> int:
    from tests.e2e.harness.emulator import free_port
    from tests.e2e.harness.session import Session

    base = state_dir(env)
    with Session(env, workdir=base, keep=True, echo=False) as session:
        session.deploy({})
        outputs = session.outputs()
        api_port = free_port()
        local_api = f"http://127.0.0.1:{api_port}"
        if outputs.get("api_url"):
            _serve_api(session, outputs["api_url"], api_port)
        key, secret = session.emulator.admin_key
        (base / "local.mk").write_text(
            f"# written by make local-up ENV={env}; removed by make local-down\n"
            f"export AWS_ENDPOINT_URL := {session.emulator.url}\n"
            f"export AWS_ACCESS_KEY_ID := {key}\nexport AWS_SECRET_ACCESS_KEY := {secret}\n"
            f"export AWS_REGION := us-east-1\nexport AWS_DEFAULT_REGION := us-east-1\n"
            f"export SLEEPWAKE_TF_DIR := {session.workspace.dir}\nunexport AWS_SESSION_TOKEN AWS_PROFILE\n"
        )
        (base / "env.sh").write_text(
            f"export AWS_ENDPOINT_URL={session.emulator.url} AWS_ACCESS_KEY_ID={key} "
            f"AWS_SECRET_ACCESS_KEY={secret} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 "
            f"SLEEPWAKE_TF_DIR={session.workspace.dir} SLEEPWAKE_LOCAL_API={local_api}\n"
            "unset AWS_SESSION_TOKEN AWS_PROFILE\n"
        )
        (base / "outputs.json").write_text(json.dumps(outputs, indent=2))
        (base / "ready").write_text(local_api)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        last_tick = time.time()
        while not stop.is_set():
            try:
                session.wiring.drain()
                if time.time() - last_tick >= 60:
                    last_tick = time.time()
                    session.wiring.tick(1, advance=False)
            except Exception as exc:  # keep serving; say what failed
                print(f"local: {type(exc).__name__}: {exc}", flush=True)
            stop.wait(2)
    return 0


def _serve_api(session, api_url: str, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else None
            answer = session.wiring.http(api_url, self.command, self.path, dict(self.headers), body)
            session.wiring.drain()
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                if key not in ("content-length", "transfer-encoding"):
                    self.send_header(key, value)
            data = answer.body.encode()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def up(env: str) -> int:
    base = state_dir(env)
    if (base / "pid").exists():
        print(
            f"local-up: {env} already runs (pid {(base / 'pid').read_text().strip()}); make local-down ENV={env} first"
        )
        return 1
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    log = (base / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.local", "serve", "--env", env],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (base / "pid").write_text(str(process.pid))
    print(
        f"local-up: applying environments/{env} to a local emulator (about a minute; log {base / 'server.log'})",
        flush=True,
    )
    while not (base / "ready").exists():
        if process.poll() is not None:
            print((base / "server.log").read_text()[-3000:])
            (base / "pid").unlink(missing_ok=True)
            print(f"local-up: the server stopped (exit {process.returncode})")
            return 1
        time.sleep(1)
    outputs = json.loads((base / "outputs.json").read_text())
    api = (base / "ready").read_text().strip()
    print(
        f"""local-up: {env} ({outputs["inference_mode"]}) runs on {json.dumps(outputs.get("endpoint_name"))}; try:

  make status ENV={env}                       # the deployed manager, through Lambda Invoke
  make wake ENV={env}
  TOKEN=$(make token-create NAME=me ENV={env})
  curl -s -XPOST {api}/invoke -H "Authorization: Bearer $TOKEN" -d '{{"inputs": "hi"}}'
  source .local/{env}/env.sh                  # AWS_ENDPOINT_URL etc. for aws, boto3 and sleepwake.client
  make local-down ENV={env}
"""
        if outputs.get("api_url")
        else f"""local-up: {env} ({outputs["inference_mode"]}) runs; source .local/{env}/env.sh
  for AWS_ENDPOINT_URL and keys (boto3, sleepwake.client with .local/{env}/outputs.json); make local-down ENV={env}
"""
    )
    return 0


def down(env: str) -> int:
    base = state_dir(env)
    pid_file = base / "pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.2)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(base, ignore_errors=True)
    print(f"local-down: {env} stopped and forgotten")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "serve"])
    parser.add_argument("--env", default="dev")
    args = parser.parse_args(argv)
    return {"up": up, "down": down, "serve": serve}[args.action](args.env)


if __name__ == "__main__":
    sys.exit(main())
