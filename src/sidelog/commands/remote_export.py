"""``sidelog export --to http(s)://HOST:PORT``: the same export, read from a server over HTTP.

A team's sidelog may sit on another machine, with only its HTTP API reachable. This reads
its stored events through ``GET /v1/events`` and hands the export writers (commands/export.py)
the very rows a local export reads from the store, so the output is the same byte for byte:

- oldest first, as the local export writes: ``after=0`` asks the API for ascending ids and
  each page's ``next`` link continues from the last id (keyset paging; one page of
  ``PAGE`` events in memory, fetched when the previous one is written);
- the filters go as the API's parameters (``EventFilter.to_params``: relative times are
  already absolute, so server and client agree on "today");
- each event object becomes the ``events`` row it was read from (``details`` as compact
  JSON text, as the writer stores it; booleans as 0/1).

``--bundle`` works too: the group is found in ``GET /v1/errors`` (every status, snoozed ones
included), its newest event by ``?fingerprint=``, and the events before it by the
session's (else user's, else trace's) events, keeping the newest ``N`` by time in a heap.

One keep-alive connection (``http.client``); ``https://`` verifies the server against the
system's CAs (``SSL_CERT_FILE`` trusts a self-signed one). The token goes as
``Authorization: Bearer`` (a read-only one suffices: nothing here writes). Every failure
is one ``CommandError`` line.
"""

from __future__ import annotations

import heapq
import http.client
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import orjson

from sidelog.commands.bundle import bundle_scope, bundle_text, newest_or_refuse
from sidelog.commands.common import CommandError, bearer_headers, split_scheme
from sidelog.config import Endpoint, parse_endpoint
from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.models import ErrorGroup, event_from_row
from sidelog.store.timeline import MAX_PRECEDING, Scope, scope_filter
from sidelog.textsafe import safe_text
from sidelog.timespec import MAX_MS

PAGE = 1000
"""Events per request (the API's largest page)."""
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0
_WIRE_KEYS = (
    "id",
    "eventId",
    "category",
    "type",
    "message",
    "details",
    "userId",
    "sessionId",
    "url",
    "userAgent",
    "timestamp",
    "receivedAt",
    "source",
    "showToUser",
    "userMessage",
    "resolved",
    "fingerprint",
    "traceId",
)
"""The API's event keys in ``EVENT_COLUMN_NAMES`` order."""


def parse_target(url: str) -> tuple[str, Endpoint]:
    """``http(s)://HOST:PORT`` (or bare ``HOST:PORT``) as ``(scheme, endpoint)``; one line if bad."""
    scheme, text = split_scheme(url)
    try:
        endpoint = parse_endpoint(text, default_host="127.0.0.1")
    except ValueError as exc:
        raise CommandError(f"invalid --to {url!r}: {exc} (use http(s)://HOST:PORT)") from None
    if endpoint is None or endpoint.port == 0:
        raise CommandError(f"invalid --to {url!r}: use http://HOST:PORT or https://HOST:PORT")
    if endpoint.host in ("0.0.0.0", "::"):  # a wildcard bind is reached through loopback
        endpoint = Endpoint("127.0.0.1" if endpoint.host == "0.0.0.0" else "::1", endpoint.port)
    return scheme, endpoint


def wire_row(event: Any) -> tuple[Any, ...]:
    """The ``events`` row (``EVENT_COLUMN_NAMES`` order) an API event object was made from."""
    if not isinstance(event, dict):
        raise ValueError("an event is not a JSON object")
    row = [event.get(key) for key in _WIRE_KEYS]
    details = row[5]
    row[5] = None if details is None else orjson.dumps(details).decode()
    for index in (13, 15):  # showToUser, resolved: stored as 0/1
        if isinstance(row[index], bool):
            row[index] = 1 if row[index] else 0
    return tuple(row)


def _group(wire: dict[str, Any]) -> ErrorGroup:
    return ErrorGroup(
        fingerprint=wire["fingerprint"],
        category=wire["category"],
        message=wire["message"],
        count=wire["count"],
        first_seen=wire["firstSeen"],
        last_seen=wire["lastSeen"],
        last_event_id=wire.get("lastEventId"),
        status=wire["status"],
        resolved_at=wire.get("resolvedAt"),
        resolve_note=wire.get("resolveNote"),
        regressed=bool(wire.get("regressed")),
    )


class RemoteRows:
    """A sidelog server's stored events, read over its HTTP API; ``close`` when done."""

    def __init__(self, url: str, token: str | None) -> None:
        self._scheme, self._endpoint = parse_target(url)
        self._headers = {"Accept": "application/json", **bearer_headers(token)}
        self._token = token
        self._conn: http.client.HTTPConnection | None = None
        try:
            self.get("/v1/events?limit=1")  # reachable and the token accepted, before any output
        except BaseException:
            self.close()
            raise

    def _connect(self) -> http.client.HTTPConnection:
        host, port = self._endpoint.host, self._endpoint.port
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=CONNECT_TIMEOUT_S, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)

    def get(self, path: str) -> dict[str, Any]:
        """``GET path`` as a JSON object; a dropped keep-alive connection is reopened once."""
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request("GET", path, headers=self._headers)
                if self._conn.sock is not None:
                    self._conn.sock.settimeout(READ_TIMEOUT_S)
                response = self._conn.getresponse()
                body = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if not reused:  # a fresh connection closed unanswered: not an HTTP sidelog
                    raise self._unreachable(exc) from None
                if attempt:
                    raise CommandError(f"lost the connection to {self._endpoint}: {exc}") from None
            except ssl.SSLCertVerificationError as exc:
                self.close()
                raise CommandError(
                    f"cannot verify the certificate of {self._endpoint}: {exc.verify_message or exc} "
                    "(a self-signed one is trusted with SSL_CERT_FILE=cert.pem)"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise self._unreachable(exc) from None
        return self._answer(response.status, body)

    def _unreachable(self, exc: Exception) -> CommandError:
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror.lower()
        else:
            reason = str(exc) or type(exc).__name__
        if isinstance(exc, ssl.SSLError):
            reason = f"TLS failed ({reason}; is it https://?)"
        elif self._scheme == "http" and isinstance(exc, http.client.BadStatusLine | ConnectionResetError):
            reason = f"no HTTP answer ({reason.lower()}; is it https://?)"
        return CommandError(f"cannot connect to {self._endpoint}: {reason} (is sidelog running there?)")

    def _answer(self, status: int, body: bytes) -> dict[str, Any]:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        if status == 200 and isinstance(doc, dict):
            return doc
        reason = doc.get("error") if isinstance(doc, dict) else None
        shown = safe_text(str(reason if reason is not None else body[:200].decode("utf-8", "replace")))
        hint = ""
        if status == 401:
            hint = " (pass --token or set SIDELOG_TOKEN)" if self._token is None else " (check the token)"
        elif status == 200:
            shown = "the answer is not a sidelog API object"
        raise CommandError(f"{self._endpoint} refused the export: HTTP {status}: {shown}{hint}")

    def events(self, flt: EventFilter) -> Iterator[dict[str, Any]]:
        """The API's event objects matching ``flt``, oldest first, one page at a time."""
        path: str | None = "/v1/events?" + urlencode([*flt.to_params(), ("limit", str(PAGE)), ("after", "0")])
        while path is not None:
            page = self.get(path)
            events = page.get("events")
            if not isinstance(events, list):
                raise CommandError(f"{self._endpoint} answered without an events list: is it sidelog?")
            yield from events
            link = page.get("next")
            path = link if isinstance(link, str) and link.startswith("/v1/events?") else None

    def rows(self, flt: EventFilter) -> Iterator[tuple[Any, ...]]:
        """Matching rows in ``EVENT_COLUMN_NAMES`` order, oldest first (as a local export reads)."""
        for event in self.events(flt):
            try:
                yield wire_row(event)
            except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
                raise CommandError(f"{self._endpoint} sent an event this export cannot read: {exc}") from None

    def count(self, flt: EventFilter) -> None:
        """Unknown over HTTP (the API has no count): the progress line counts up instead."""
        return None

    def bundle(self, fingerprint: str, events: int) -> str:
        """The repro bundle of a group, as commands/bundle.py makes it from a SQLite file."""
        group = self._find_group(fingerprint)
        event = newest_or_refuse(fingerprint, group, self._newest_event(fingerprint, group))
        scope = bundle_scope(event)
        preceding = self._preceding(scope[0], scope[1], event, events) if scope else []
        return bundle_text(event, group, scope, preceding, events)

    def _find_group(self, fingerprint: str) -> ErrorGroup | None:
        """The group, from ``GET /v1/errors`` pages (the API has no lookup by fingerprint)."""
        query = [("status", "all"), ("snoozed", "include"), ("sort", "first_seen"), ("limit", str(PAGE))]
        cursor: str | None = None
        while True:
            page = self.get("/v1/errors?" + urlencode(query + ([("next", cursor)] if cursor else [])))
            for wire in page.get("errors") or []:
                if isinstance(wire, dict) and wire.get("fingerprint") == fingerprint:
                    try:
                        return _group(wire)
                    except (KeyError, TypeError) as exc:
                        raise CommandError(f"{self._endpoint} sent a group without {exc}") from None
            link = page.get("next")
            if not isinstance(link, str) or not link:
                return None
            cursor = link

    def _one(self, flt: EventFilter, before: int | None = None) -> Event | None:
        params = [*flt.to_params(), ("limit", "1")]
        if before is not None:
            params.append(("before", str(before)))
        found = self.get("/v1/events?" + urlencode(params)).get("events") or []
        return event_from_row(wire_row(found[0])) if found else None

    def _newest_event(self, fingerprint: str, group: ErrorGroup | None) -> Event | None:
        """The group's last event if still stored, else its newest (store/timeline.py's choice)."""
        flt = EventFilter(fingerprint=fingerprint)
        if group is not None and group.last_event_id is not None:
            event = self._one(flt, before=group.last_event_id + 1)
            if event is not None and event.id == group.last_event_id:
                return event
        return self._one(flt)

    def _preceding(self, scope: Scope, value: str, anchor: Event, limit: int) -> list[Event]:
        """Up to ``limit`` events of the scope just before ``anchor`` by (time, id), oldest first.

        The API pages by id, not by time, so every event of the scope up to the anchor's
        time is read once and the newest ``limit`` kept in a heap (memory: ``limit`` events).
        """
        limit = min(limit, MAX_PRECEDING)
        if limit <= 0:
            return []
        key = (anchor.timestamp, anchor.id or 0)
        base = scope_filter(scope, value)
        until = anchor.timestamp + 1 if anchor.timestamp < MAX_MS else None  # fewer rows to send
        flt = EventFilter(session=base.session, user=base.user, trace=base.trace, until=until)
        kept: list[tuple[int, int, tuple[Any, ...]]] = []
        for wire in self.events(flt):
            row = wire_row(wire)
            mark = (int(row[10]), int(row[0]))
            if mark >= key:
                continue
            if len(kept) < limit:
                heapq.heappush(kept, (*mark, row))
            elif mark > kept[0][:2]:
                heapq.heapreplace(kept, (*mark, row))
        return [event_from_row(item[2]) for item in sorted(kept, key=lambda item: item[:2])]

    def close(self) -> None:
        """Close the connection (a new one is opened if used again)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


__all__ = ["PAGE", "RemoteRows", "parse_target", "wire_row"]
