"""The log lines every function writes (Powertools Logger under sleepwake's field names), and the handler wrapper
that adds the Lambda context and turns tracing on only inside Lambda."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from types import SimpleNamespace

from sleepwake.common.observability import configure_logging, get_logger, lambda_entry, log_context, log_event


def lines_of(action) -> list[dict]:
    configure_logging("INFO")
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        action()
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_has_the_fields_the_dashboard_reads_and_redacts_secrets():
    def action():
        with log_context(request_id="r-1", endpoint_name="ep", ignored=None):
            log_event(get_logger("manager"), "create_endpoint", created=True, token="s3cret", detail={"a": 1})

    [line] = lines_of(action)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "sleepwake.manager", "create_endpoint")
    assert (line["request_id"], line["endpoint_name"], line["created"]) == ("r-1", "ep", True)
    assert line["token"] == "[redacted]" and line["detail"] == {"a": 1} and "ignored" not in line
    assert list(line)[:4] == ["time", "level", "logger", "message"]


def test_the_lambda_entry_adds_the_context_once_and_notes_the_cold_start(monkeypatch):
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")

    @lambda_entry
    def handler(event, context):
        log_event(get_logger("handlers.test"), "handled", event=event)
        return event

    context = SimpleNamespace(
        aws_request_id="abc", function_name="fn", memory_limit_in_mb=256, invoked_function_arn="arn:x"
    )
    first, second = lines_of(lambda: (handler(1, context), handler(2, None)))
    assert (first["request_id"], first["function_name"], first["cold_start"], first["event"]) == ("abc", "fn", True, 1)
    assert "cold_start" not in second and "request_id" not in second and second["event"] == 2
