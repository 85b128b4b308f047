"""Fixtures for the forwarding tests: a minimal OTLP/HTTP receiver decoding with
``opentelemetry-proto``, and a way to put events into a forwarding sidelog over TCP."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from sidelog.engine import Engine
from sidelog.forward.forwarder import ForwardOptions

FAST = ForwardOptions(
    batch_size=200,
    page_size=100,
    timeout_s=2.0,
    connect_timeout_s=1.0,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    max_retry_after_s=0.2,
    close_timeout_s=2.0,
)
"""Forwarding with short waits, so a test never sits out a real backoff."""


@dataclass
class Record:
    """One log record as the receiver decoded it."""

    service: str
    sidelog_id: int
    message: str
    attributes: dict[str, Any]


@dataclass
class OtlpReceiver:
    """A minimal OTLP/HTTP logs receiver; ``mode`` says how it answers."""

    port: int = 0
    mode: str = "ok"
    """``ok``, ``503``, ``429``, ``hang`` or ``garbage`` (200 with a body that is not protobuf)."""
    refuse_if: str | None = None
    """Answer 400 to any request holding a record whose message contains this."""
    records: list[Record] = field(default_factory=list)
    requests: int = 0
    gzip_requests: int = 0
    largest_batch: int = 0
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """The ``--forward`` URL of this receiver."""
        return f"otlp+http://127.0.0.1:{self.port}"

    def ids(self) -> list[int]:
        """Every ``sidelog.id`` received, in arrival order."""
        return [record.sidelog_id for record in self.records]

    async def start(self) -> None:
        """Listen on ``port`` (a free one when 0)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/logs", self._logs)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening (the port then refuses connections)."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _logs(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()  # aiohttp undoes Content-Encoding itself
        if request.headers.get("Content-Encoding") == "gzip":
            self.gzip_requests += 1
        if self.mode == "hang":
            await self._release.wait()
        if self.mode in ("503", "429"):
            return web.Response(status=int(self.mode), text="busy", headers={"Retry-After": "0"})
        message = ExportLogsServiceRequest()
        message.ParseFromString(body)
        decoded = list(_records(message))
        if self.refuse_if is not None and any(self.refuse_if in r.message for r in decoded):
            return web.Response(status=400, text="this batch is not welcome")
        self.records.extend(decoded)
        self.largest_batch = max(self.largest_batch, len(decoded))
        if self.mode == "garbage":
            return web.Response(status=200, body=b"\xff\x00 not protobuf at all")
        answer = ExportLogsServiceResponse().SerializeToString()
        return web.Response(body=answer, content_type="application/x-protobuf")


def _records(message: ExportLogsServiceRequest) -> list[Record]:
    found: list[Record] = []
    for resource_logs in message.resource_logs:
        service = next(
            (kv.value.string_value for kv in resource_logs.resource.attributes if kv.key == "service.name"),
            "",
        )
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attrs = {kv.key: _value(kv.value) for kv in record.attributes}
                found.append(Record(service, int(attrs["sidelog.id"]), record.body.string_value, attrs))
    return found


def _value(value: Any) -> Any:
    which = value.WhichOneof("value")
    return None if which is None else getattr(value, which)


@pytest.fixture
async def otlp_receiver() -> AsyncIterator[OtlpReceiver]:
    """A running minimal receiver, stopped after the test."""
    receiver = OtlpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def endpoint(engine: Engine, kind: str) -> str:
    """``HOST:PORT`` of the engine's ``kind`` endpoint."""
    return dict(engine.endpoints)[kind]


async def send_events(engine: Engine, messages: list[tuple[str, str]]) -> None:
    """Send ``(source, message)`` events over TCP and wait until they are stored (a sync)."""
    host, port = endpoint(engine, "tcp").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [json.dumps({"message": m, "source": s, "category": "fwd"}) for s, m in messages]
    writer.write(("\n".join(lines) + '\n{"sync": true}\n').encode())
    writer.write_eof()
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    replies = [json.loads(line) for line in data.splitlines() if line.strip()]
    assert replies[-1] == {"ok": True, "stored": len(messages)}, replies[-3:]


def stored_ids(engine: Engine) -> list[int]:
    """Every event id in the engine's SQLite file, ascending."""
    import sqlite3

    with sqlite3.connect(engine.settings.db) as db:
        return [row[0] for row in db.execute("SELECT id FROM events ORDER BY id")]
