"""The scenarios: each step through the deployed wiring, printed with what was expected and what came back.

realtime(session)    the gateway, the manager and the replay of a real-time environment
async_mode(session)  S3 upload -> trigger -> InvokeEndpointAsync -> SNS -> job status
serverless(session)  the app client through the exported outputs
switch_and_destroy(session)  realtime -> serverless -> async -> realtime, then destroy: nothing left
"""

from __future__ import annotations

import json

from . import shims
from .session import Session

DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference"
IMAGE_GPU = f"{DLC}:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
IMAGE_CPU = f"{DLC}:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04"
FLEET_ENDPOINT = "e2e-fleet-endpoint"


def realtime_vars(mode: str = "realtime") -> dict:
    """Small idle settings so the virtual clock reaches them in a few ticks; fleet mode on."""
    return {
        "inference_mode": mode,
        "realtime": {
            "image_uri": IMAGE_GPU,
            "instance_type": "ml.g4dn.xlarge",
            "policy": "fixed",
            "idle_timeout_minutes": 5,
            "fleet": True,
        },
        "serverless": {"image_uri": IMAGE_CPU, "memory_size_in_mb": 2048, "max_concurrency": 5},
        "async": {"image_uri": IMAGE_GPU, "instance_type": "ml.g4dn.xlarge", "max_instance_count": 1},
    }


def _endpoints(session: Session) -> dict[str, dict]:
    sm = session.emulator.client("sagemaker")
    return {
        e["EndpointName"]: sm.describe_endpoint(EndpointName=e["EndpointName"])
        for e in sm.list_endpoints()["Endpoints"]
    }


# --------------------------------------------------------------------------------------------------- real-time


def realtime(session: Session, out: dict) -> None:
    s, w, step = "realtime", session.wiring, session.steps.check
    api, name = out["api_url"], out["endpoint_name"]
    shims.HOOKS.held_endpoints.add(name)
    shims.HOOKS.held_endpoints.add(FLEET_ENDPOINT)

    created = session.tool(
        "tools/tokens.py", "--table", out["gateway_tokens_table_name"], "create", "e2e-app", "--expires-days", "1"
    )
    token = created.stdout.strip()
    step(
        s,
        "token-create prints the token alone",
        "one line, swk_...",
        token[:12] + "...",
        created.returncode == 0 and len(token.splitlines()) == 1 and " " not in token,
    )
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    r = w.http(api, "POST", "/invoke", {"Content-Type": "application/json"}, '{"inputs": "hi"}')
    step(s, "POST /invoke without a token", "401", r.status, r.status == 401)
    r = w.http(
        api,
        "POST",
        "/invoke",
        {"Authorization": "Bearer swk_wrong", "Content-Type": "application/json"},
        '{"inputs": "hi"}',
    )
    step(s, "POST /invoke with a wrong token", "403", r.status, r.status == 403)

    r = w.http(api, "POST", "/invoke", auth, '{"inputs": "hello"}')
    w.drain()
    eps = _endpoints(session)
    config_before = eps.get(name, {}).get("EndpointConfigName")
    step(
        s,
        "POST /invoke asleep",
        "503 + Retry-After, one wake",
        f"{r.status} Retry-After={r.headers.get('retry-after')} endpoints={list(eps)}",
        r.status == 503
        and r.headers.get("retry-after")
        and list(eps) == [name]
        and eps[name]["EndpointStatus"] == "Creating",
    )
    r2 = w.http(api, "POST", "/invoke", auth, '{"inputs": "again"}')
    step(
        s,
        "POST /invoke while waking",
        "503, still one endpoint",
        f"{r2.status} endpoints={len(_endpoints(session))}",
        r2.status == 503 and len(_endpoints(session)) == 1,
    )

    r = w.http(api, "POST", "/invoke", dict(auth, Prefer="respond-async"), '{"inputs": "queued"}')
    request_id = (r.json() or {}).get("request_id", "")
    step(
        s,
        "POST /invoke Prefer: respond-async",
        "202 + request id",
        f"{r.status} {request_id}",
        r.status == 202 and len(request_id) == 32,
    )

    shims.release_endpoint(name)
    results = w.drain()
    invoked = {
        fn.rsplit("-", 1)[-1] if not fn.endswith("replay-control") else "replay-control" for fn, ok, _ in results if ok
    }
    step(
        s,
        "InService -> state-change -> replay",
        "manager, replay-control, replay invoked",
        sorted(invoked),
        {"manager", "replay-control", "replay"} <= invoked,
    )
    r = w.http(api, "GET", f"/requests/{request_id}", auth)
    body = r.json() or {}
    step(
        s,
        "GET /requests/{id}",
        "200 done with the model's answer",
        f"{r.status} {body.get('status')} {str(body.get('result'))[:60]}",
        r.status == 200 and body.get("status") == "done" and "queued" in str(body.get("result")),
    )

    r = w.http(api, "POST", "/invoke", auth, '{"inputs": "awake"}')
    step(
        s,
        "POST /invoke InService",
        "200 + the model's body",
        f"{r.status} {r.body[:60]}",
        r.status == 200 and "awake" in r.body,
    )

    r = w.http(api, "POST", "/lease", auth, '{"minutes": 30}')
    step(
        s,
        "POST /lease 30 min",
        "200 active",
        f"{r.status} active={(r.json() or {}).get('active')}",
        r.status == 200 and (r.json() or {}).get("active") is True,
    )
    r = w.http(api, "GET", "/lease", auth)
    step(
        s,
        "GET /lease",
        "200, ~1800 s left",
        f"{r.status} {(r.json() or {}).get('seconds_left')}",
        r.status == 200 and 1700 < float((r.json() or {}).get("seconds_left") or 0) <= 1800,
    )
    w.advance(9 * 60)  # nine quiet minutes, then the schedule's tick
    w.tick(1)
    step(s, "10 min idle with a lease", "still awake", list(_endpoints(session)), name in _endpoints(session))
    r = w.http(api, "DELETE", "/lease", auth)
    step(
        s,
        "DELETE /lease",
        "200 inactive",
        f"{r.status} active={(r.json() or {}).get('active')}",
        r.status == 200 and (r.json() or {}).get("active") is False,
    )

    for _ in range(4):
        w.advance(120)
        w.tick(1)
    r = w.http(api, "GET", "/status", auth)
    st = r.json() or {}
    step(
        s,
        "idle -> the schedule sleeps it",
        "asleep, endpoint deleted",
        f"{st.get('state')} endpoints={list(_endpoints(session))}",
        st.get("state") == "asleep" and name not in _endpoints(session),
    )

    r = w.http(api, "POST", "/invoke", auth, '{"inputs": "wake again"}')
    w.drain()
    eps = _endpoints(session)
    step(
        s,
        "next request recreates it",
        "503; same endpoint configuration",
        f"{r.status} {eps.get(name, {}).get('EndpointConfigName')}",
        r.status == 503 and eps.get(name, {}).get("EndpointConfigName") == config_before,
    )
    shims.release_endpoint(name)
    w.drain()

    # fleet mode: an endpoint created outside Terraform, tagged auto-maintain=true
    sm = session.emulator.client("sagemaker")
    sm.create_endpoint_config(
        EndpointConfigName=f"{FLEET_ENDPOINT}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": out["model_name"],
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g4dn.xlarge",
            }
        ],
    )
    sm.create_endpoint(
        EndpointName=FLEET_ENDPOINT,
        EndpointConfigName=f"{FLEET_ENDPOINT}-config",
        Tags=[{"Key": "auto-maintain", "Value": "true"}, {"Key": "team", "Value": "e2e"}],
    )
    shims.release_endpoint(FLEET_ENDPOINT)
    w.drain()
    for _ in range(4):
        w.advance(120)
        w.tick(1)
    step(
        s,
        "fleet: tagged endpoint idle",
        "slept by the manager",
        list(_endpoints(session)),
        FLEET_ENDPOINT not in _endpoints(session),
    )
    manager = session.emulator.client("lambda").get_function(FunctionName=out["manager_function_name"])
    ok, answer = w.invoke(manager["Configuration"]["FunctionArn"], {"action": "wake", "endpoint_name": FLEET_ENDPOINT})
    w.drain()
    eps = _endpoints(session)
    tags = (
        {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=eps[FLEET_ENDPOINT]["EndpointArn"])["Tags"]}
        if FLEET_ENDPOINT in eps
        else {}
    )
    step(
        s,
        "fleet: wake recreates it",
        "same config and tags",
        f"{eps.get(FLEET_ENDPOINT, {}).get('EndpointConfigName')} {tags}",
        ok
        and eps.get(FLEET_ENDPOINT, {}).get("EndpointConfigName") == f"{FLEET_ENDPOINT}-config"
        and tags.get("team") == "e2e",
    )
    shims.release_endpoint(FLEET_ENDPOINT)
    w.drain()
    # it was created outside Terraform: its owner deletes it (Terraform's destroy must not)
    sm.delete_endpoint(EndpointName=FLEET_ENDPOINT)
    sm.delete_endpoint_config(EndpointConfigName=f"{FLEET_ENDPOINT}-config")
    w.drain()

    # make: status / wake commands run by a user (the deployed manager through Lambda Invoke)
    status = session.tool("tools/invoke_manager.py", "status", "--env", session.env, "--endpoint", name)
    step(
        s,
        "make status (tools/invoke_manager.py)",
        "exit 0, ok: true",
        f"rc={status.returncode} {status.stdout[:80]}",
        status.returncode == 0 and '"ok": true' in status.stdout,
    )


# ------------------------------------------------------------------------------------------------------- async


def async_mode(session: Session, out: dict) -> None:
    s, w, step = "async", session.wiring, session.steps.check
    bucket, prefix = out["input_bucket"], out["input_prefix"]
    app = session.emulator.client("s3")
    key = f"{prefix}e2e/job-1.json"
    app.put_object(Bucket=bucket, Key=key, Body=b'{"inputs": "async hello"}', ContentType="application/json")
    calls = [i for i in session.runtime.invocations if i.function.endswith("async-trigger")]
    step(
        s,
        "upload input as the README says",
        "trigger ran once, ok",
        f"{len(calls)}: {[c.result for c in calls]}",
        len(calls) == 1 and calls[0].ok and (calls[0].result or {}).get("ok") is True,
    )
    status = _job_status(session, out, bucket, key)
    step(s, "trigger -> InvokeEndpointAsync", "status queued", status.get("status"), status.get("status") == "queued")
    # the same S3 event again (S3 delivers at least once)
    record = calls[0].event
    fn = session.emulator.client("lambda").get_function(FunctionName=calls[0].function)["Configuration"]["FunctionArn"]
    w.invoke(fn, record, principal="s3.amazonaws.com", source_arn=f"arn:aws:s3:::{bucket}")
    step(
        s,
        "same S3 event twice",
        "one InvokeEndpointAsync",
        len(shims.HOOKS.pending_async),
        len(shims.HOOKS.pending_async) == 1,
    )
    bad = f"{prefix}e2e/job-2.json"
    app.put_object(Bucket=bucket, Key=bad, Body=b'{"inputs": "fail-me"}', ContentType="application/json")
    processed = shims.process_async()
    notified = [i for i in session.runtime.invocations if i.function.endswith("async-notify")]
    step(
        s,
        "SageMaker results -> SNS -> notify",
        "2 jobs, 2 notifications ok",
        f"{processed} jobs, {len(notified)} notifications ok={[n.ok for n in notified]}",
        processed == 2 and len(notified) == 2 and all(n.ok for n in notified),
    )
    done, failed = _job_status(session, out, bucket, key), _job_status(session, out, bucket, bad)
    step(
        s,
        "job status",
        "completed + failed",
        f"{done.get('status')} / {failed.get('status')}",
        done.get("status") == "completed" and failed.get("status") == "failed",
    )


def _job_status(session: Session, out: dict, bucket: str, key: str) -> dict:
    code = (
        "import json, sys; from sleepwake_client import SleepwakeClient; "
        "c = SleepwakeClient.from_outputs(json.load(sys.stdin)); "
        "print(json.dumps(c.job_status({'bucket': sys.argv[1], 'key': sys.argv[2]}), default=str))"
    )
    run = _client_run(session, out, code, bucket, key)
    try:
        return json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (run.stderr or run.stdout)[-300:]}


def _client_run(session: Session, out: dict, code: str, *args: str):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=json.dumps(out),
        env=session.user_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -------------------------------------------------------------------------------------------------- serverless


def serverless(session: Session, out: dict) -> None:
    s, step = "serverless", session.steps.check
    code = (
        "import json, sys; from sleepwake_client import SleepwakeClient; "
        "c = SleepwakeClient.from_outputs(json.load(sys.stdin)); "
        "a = c.invoke({'inputs': 'serverless hello'}, deadline_seconds=10); print(a.json())"
    )
    run = _client_run(session, out, code)
    step(
        s,
        "SleepwakeClient.from_outputs(...).invoke",
        "the model's answer",
        (run.stdout or run.stderr).strip()[-100:],
        run.returncode == 0 and "serverless hello" in run.stdout,
    )


# ------------------------------------------------------------------------------------------- mode switches


def leave_work_pending(session: Session, out: dict) -> None:
    """Before the switch away from real-time: the endpoint asleep, one request queued, results stored."""
    s, w, step = "realtime", session.wiring, session.steps.check
    api, name = out["api_url"], out["endpoint_name"]
    manager = session.emulator.client("lambda").get_function(FunctionName=out["manager_function_name"])
    w.invoke(manager["Configuration"]["FunctionArn"], {"action": "sleep", "endpoint_name": name, "force": True})
    w.drain()
    token = session.tool(
        "tools/tokens.py", "--table", out["gateway_tokens_table_name"], "create", "e2e-pending"
    ).stdout.strip()
    r = w.http(
        api,
        "POST",
        "/invoke",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Prefer": "respond-async"},
        '{"inputs": "left in the queue"}',
    )
    w.drain()
    bucket = next(b["Name"] for b in session.emulator.client("s3").list_buckets()["Buckets"] if "request" in b["Name"])
    stored = session.emulator.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    sqs = session.emulator.client("sqs")
    queued = sum(
        int(
            sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        for q in sqs.list_queues().get("QueueUrls", [])
    )
    step(
        s,
        "before the switch: work pending",
        "1+ queued request, 1+ stored result",
        f"{r.status}, {queued} queued, {stored} objects in {bucket}",
        r.status == 202 and queued >= 1 and stored >= 1,
    )


MODE_FUNCTIONS = {
    "realtime": ("manager", "gateway", "authorizer", "replay", "replay-control"),
    "async": ("async-trigger", "async-notify"),
    "serverless": (),
}


def check_no_orphans(session: Session, mode: str) -> None:
    """After a switch: only the new mode's endpoint and functions exist."""
    left = session.leftovers()
    functions = left.get("functions", [])
    endpoints = left.get("endpoints", [])
    stray = [f for f in functions if not any(f.endswith(suffix) for suffix in MODE_FUNCTIONS[mode])]
    expected_endpoints = {"realtime": [], "serverless": ["-serverless"], "async": ["-async"]}[mode]
    stray_endpoints = [
        e for e in endpoints if e != FLEET_ENDPOINT and not any(e.endswith(suffix) for suffix in expected_endpoints)
    ]
    session.steps.check(
        "switch",
        f"no orphan after the switch to {mode}",
        "only this mode's functions/endpoints",
        {"functions": functions, "endpoints": endpoints},
        not stray and not stray_endpoints,
    )
