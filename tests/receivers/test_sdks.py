"""The real SDKs, unmodified, reporting to a real sidelog: Sentry (Python, Node) and OpenTelemetry.

Each app raises a real exception in a real function (``charge_card``/``chargeCard``),
flushes and exits; the test then finds exactly one error event in the SQLite file
with the exception's type and message, the raising function as the top frame of
``details.exception.stack``, the user and the trace id the app printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sidelog.fingerprint import top_frame
from tests.receivers.conftest import APPS, Receiver, python_app, run_app
from tests.support.wait import until


def assert_raised_in(row: dict[str, Any], exc_type: str, function: str, app: str) -> dict[str, Any]:
    """The row is the app's one error, raised in ``function``; returns its details."""
    details = row["details"]
    exception = details["exception"]
    assert exception["type"] == exc_type
    assert exception["message"] == "card declined for order 7"
    assert top_frame(exception["stack"]).endswith(f"{app}:{function}")
    assert f"in {function} (in app)" in exception["stack"]
    assert row["fingerprint"] is not None
    assert row["resolved"] == 0
    return details


async def wait_for(receiver: Receiver, where: str, count: int = 1) -> None:
    await until(lambda: receiver.count(where) >= count, timeout=30, message=f"{count} rows where {where}")


async def test_python_sdk_through_spotlight(receiver: Receiver) -> None:
    # SENTRY_SPOTLIGHT is the variable `sidelog run` sets for the apps it wraps.
    out = await run_app(
        *python_app("sentry_app.py"), "spotlight", env={"SENTRY_SPOTLIGHT": f"{receiver.base}/stream"}
    )
    trace_id = out.split()[-1]
    await wait_for(receiver, "category = 'trace'")
    [error] = receiver.rows("level = 'error'")
    assert error["message"] == "ValueError: card declined for order 7"
    assert error["source"] == "sentry.python"
    assert error["user_id"] == "u_42"
    assert len(error["event_uid"]) == 32
    details = assert_raised_in(error, "ValueError", "charge_card", "sentry_app.py")
    assert details["trace_id"] == trace_id
    assert error["trace_id"] == trace_id  # the indexed column: ``?trace=`` finds it
    assert (details["release"], details["environment"], details["platform"]) == ("shop@1.0", "dev", "python")
    assert details["tags"]["feature"] == "checkout"
    assert details["user"]["email"] == "dev@example.com"
    [transaction] = receiver.rows("category = 'trace'")
    assert transaction["level"] == "info"
    assert transaction["message"].startswith("task checkout: ok, ")
    assert transaction["details"]["trace_id"] == trace_id
    assert transaction["trace_id"] == trace_id


async def test_python_sdk_through_a_dsn_with_logs(receiver: Receiver) -> None:
    # This venv has `brotli`, so the SDK compresses its envelopes with br here.
    dsn = f"http://anykey@{receiver.host_port}/42"
    out = await run_app(*python_app("sentry_app.py"), "dsn", dsn)
    trace_id = out.split()[-1]
    await wait_for(receiver, "category = 'log'")
    await wait_for(receiver, "category = 'trace'")
    [error] = receiver.rows("level = 'error'")
    details = assert_raised_in(error, "ValueError", "charge_card", "sentry_app.py")
    assert error["user_id"] == "u_42"
    assert details["trace_id"] == trace_id
    assert details["project"] == "42"
    [log] = receiver.rows("category = 'log'")
    assert (log["level"], log["message"]) == ("warn", "low stock for A1")
    assert log["details"]["attributes"]["sentry.message.template"] == "low stock for {sku}"
    assert len(log["details"]["trace_id"]) == 32  # logged after the transaction: the scope's own trace


async def test_node_sdk_through_a_dsn(receiver: Receiver, node_sentry: Path) -> None:
    dsn = f"http://anykey@{receiver.host_port}/7"
    app = str(APPS / "sentry_node_app.js")
    out = await run_app("node", app, "dsn", dsn, env={"NODE_PATH": str(node_sentry)})
    trace_id = out.split()[-1]
    await wait_for(receiver, "level = 'error'")
    await wait_for(receiver, "category = 'trace'")
    [error] = receiver.rows("level = 'error'")
    assert error["message"] == "TypeError: card declined for order 7"
    assert error["source"] == "sentry.javascript.node"
    assert error["user_id"] == "u_7"
    details = assert_raised_in(error, "TypeError", "chargeCard", "sentry_node_app.js")
    assert details["trace_id"] == trace_id
    assert details["platform"] == "node"


async def test_node_sdk_through_spotlight(receiver: Receiver, node_sentry: Path) -> None:
    app = str(APPS / "sentry_node_app.js")
    out = await run_app(
        "node", app, "spotlight", f"{receiver.base}/stream", env={"NODE_PATH": str(node_sentry)}
    )
    trace_id = out.split()[-1]
    await wait_for(receiver, "level = 'error'")
    [error] = receiver.rows("level = 'error'")
    details = assert_raised_in(error, "TypeError", "chargeCard", "sentry_node_app.js")
    assert error["user_id"] == "u_7"
    assert details["trace_id"] == trace_id


async def test_opentelemetry_logs_over_otlp_protobuf(receiver: Receiver) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    out = await run_app(*python_app("otel_app.py"), "logs", env=env)
    trace_id = out.split()[-1]
    await wait_for(receiver, "1", 2)
    info, error = receiver.rows()
    assert (info["level"], info["message"]) == ("info", "checkout started")
    assert (error["level"], error["message"]) == ("error", "payment failed")
    for row in (info, error):
        assert (row["source"], row["category"], row["user_id"]) == ("checkout-svc", "shop.payments", "u_42")
        assert row["details"]["trace_id"] == trace_id
        assert row["trace_id"] == trace_id
    details = error["details"]
    assert details["exception"]["type"] == "ValueError"
    assert details["exception"]["message"] == "card declined for order 7"
    assert top_frame(details["exception"]["stack"]).endswith("otel_app.py:charge_card")
    assert details["resource"]["service.name"] == "checkout-svc"
    assert "exception.stacktrace" not in details["attributes"]


async def test_opentelemetry_traces_over_otlp_protobuf_gzip(receiver: Receiver) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base, "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}
    out = await run_app(*python_app("otel_app.py"), "traces", env=env)
    trace_id = out.split()[-1]
    await wait_for(receiver, "level = 'error'")
    [error] = receiver.rows()  # the two healthy spans are counted, not stored
    assert error["message"] == "ValueError: card declined for order 7"
    assert (error["source"], error["user_id"]) == ("checkout-svc", "u_42")
    details = error["details"]
    assert details["name"] == "charge"
    assert details["status"]["code"] == "STATUS_CODE_ERROR"
    assert details["trace_id"] == trace_id
    assert error["event_uid"] == f"{trace_id}-{details['span_id']}"
    assert top_frame(details["exception"]["stack"]).endswith("otel_app.py:charge_card")
