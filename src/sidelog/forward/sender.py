"""One delivery attempt: POST a gzip'd OTLP request and say what the answer means.

The forwarder decides when to try again; this module only classifies, so the
rules are in one place (OTLP/HTTP specification, "Failures"):

* 2xx: delivered (a ``partial_success`` in the answer is counted, not retried);
* 429, 502, 503, 504, any other 5xx, a connection error, a timeout or a reply
  that is not HTTP: try again later, after ``Retry-After`` when the answer has one;
* any other status (400, 401, 404, 413, a redirect): the receiver will never take
  this request; the forwarder reports it and skips the batch.

An answer's body is read up to ``MAX_ANSWER_BYTES``: a receiver that streams
garbage cannot grow memory.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass

import aiohttp
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

MAX_ANSWER_BYTES = 64 * 1024
"""The most of an answer's body that is read."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to."""

    kind: str
    """``delivered``, ``retry`` or ``refused``."""
    reason: str = ""
    """For ``retry``/``refused``: one line saying why (status and the receiver's words)."""
    retry_after: float | None = None
    """For ``retry``: seconds the receiver asked to wait (``Retry-After``)."""
    rejected: int = 0
    """For ``delivered``: records the receiver said it rejected (``partial_success``)."""


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> Outcome:
    """POST ``body`` (already gzip'd protobuf) to ``url``; never raises for network trouble."""
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
            answer = await response.content.read(MAX_ANSWER_BYTES)
            return classify(response.status, response.headers.get("Retry-After"), answer)
    except TimeoutError:
        return Outcome("retry", "no answer within the timeout")
    except aiohttp.ClientConnectorError as exc:
        return Outcome("retry", f"cannot connect: {exc.os_error.strerror or exc.os_error}")
    except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
        return Outcome("retry", f"{type(exc).__name__}: {str(exc)[:200] or 'connection failed'}")


def classify(status: int, retry_after: str | None, answer: bytes) -> Outcome:
    """The outcome of an answer with ``status``, its ``Retry-After`` header and body."""
    if 200 <= status < 300:
        return Outcome("delivered", rejected=_rejected(answer))
    words = _words(answer)
    reason = f"HTTP {status}" + (f": {words}" if words else "")
    if status == 429 or status >= 500:
        return Outcome("retry", reason, retry_after=parse_retry_after(retry_after))
    return Outcome("refused", reason)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from ``Retry-After`` (a number of seconds or an HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempt`` (0 first): doubling from ``base`` up to ``cap``,
    with jitter (between half and all of it) so many senders do not retry in step."""
    delay = min(cap, base * (2 ** min(attempt, 30)))
    return (rng or random).uniform(delay / 2, delay)


def _rejected(answer: bytes) -> int:
    """``partial_success.rejected_log_records`` of a protobuf answer (0 when it is not one)."""
    if not answer:
        return 0
    response = ExportLogsServiceResponse()
    try:
        response.ParseFromString(answer)
    except (DecodeError, RecursionError):
        return 0
    return int(response.partial_success.rejected_log_records)


def _words(answer: bytes) -> str:
    """The start of an error answer as one printable line."""
    text = answer[:300].decode("utf-8", "replace")
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:200]
