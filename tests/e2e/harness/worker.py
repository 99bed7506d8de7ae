"""One warm Lambda execution environment: `python worker.py CODE_DIR HANDLER`.

Imports the handler from the extracted deployed package (CODE_DIR first on sys.path), then serves invocations:
one JSON line on stdin ({"event", "request_id", "deadline", "clock_offset"}) -> one JSON line on the result pipe
({"ok": true, "result"} or {"ok": false, "errorType", "errorMessage"}). Logs go to stderr.

The virtual clock: `clock_offset` seconds are added to time.time() in this process only (as libfaketime would),
so the deployed code's own clock moves with the harness's schedule; nothing in the package knows about it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

code_dir, handler_name = sys.argv[1], sys.argv[2]
sys.path.insert(0, code_dir)
os.chdir(code_dir)
out = os.fdopen(int(os.environ.pop("SLEEPWAKE_E2E_RESULT_FD")), "w", buffering=1)
_real_time = time.time
_offset = 0.0
time.time = lambda: _real_time() + _offset


class Context:
    def __init__(self, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.invoked_function_arn = os.environ["SLEEPWAKE_E2E_FUNCTION_ARN"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - _real_time()) * 1000))


def main() -> None:
    global _offset
    module_name, _, function_name = handler_name.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
    except Exception as exc:  # Runtime.ImportModuleError, as Lambda reports it
        handler, init_error = None, exc
    for line in sys.stdin:
        request = json.loads(line)
        _offset = float(request.get("clock_offset", 0.0))
        if init_error is not None:
            out.write(
                json.dumps(
                    {
                        "ok": False,
                        "errorType": "Runtime.ImportModuleError",
                        "errorMessage": f"Unable to import module '{module_name}': {init_error}",
                    }
                )
                + "\n"
            )
            continue
        try:
            result = handler(request["event"], Context(request["request_id"], request["deadline"]))
            out.write(json.dumps({"ok": True, "result": result}, default=str) + "\n")
        except Exception as exc:
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            out.write(json.dumps({"ok": False, "errorType": type(exc).__name__, "errorMessage": str(exc)}) + "\n")


if __name__ == "__main__":
    main()
