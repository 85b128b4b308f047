"""A ``LogRecord`` as ``HTTPHandler`` form-encodes it, read back without running any of it."""

from __future__ import annotations

import logging
import sys
from urllib.parse import parse_qsl, urlencode

from sidelog.dialects.common import Recognised, Rejected
from sidelog.ingest.logrecord import convert_record, render_message


def _wire(record: logging.LogRecord) -> dict[str, str]:
    """Exactly what ``HTTPHandler.emit`` sends, decoded as the route decodes it."""
    return dict(parse_qsl(urlencode(record.__dict__), keep_blank_values=True))


def _record(msg: str, args: object, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("app.db", level, "/srv/app/db.py", 42, msg, args, None, func="query")  # type: ignore[arg-type]
    record.__dict__.update(extra)
    return record


def test_templates_are_rendered_as_logging_renders_them() -> None:
    assert render_message("%s took %.1f ms", "('q', 3.14159)") == ("q took 3.1 ms", True)
    assert render_message("%(user)s in", "{'user': 'ann'}") == ("ann in", True)
    assert render_message("no args", "()") == ("no args", True)


def test_templates_that_cannot_be_rendered_safely_keep_their_arguments_beside() -> None:
    assert render_message("%*d", "(999999999, 1)") == ("%*d (999999999, 1)", False)
    assert render_message("%9999999s", "('x',)") == ("%9999999s ('x',)", False)
    assert render_message("%s %s", "('one',)") == ("%s %s ('one',)", False)
    shown, ok = render_message("%s", "(<object object at 0x7f>,)")
    assert not ok
    assert shown == "%s (<object object at 0x7f>,)"
    nested = "(" * 5000 + ")" * 5000
    assert render_message("%s", nested)[1] is False


def test_a_record_with_exc_info_but_no_exc_text_keeps_type_and_message() -> None:
    try:
        raise KeyError("order_7")
    except KeyError:
        record = _record("lookup failed", (), logging.ERROR, exc_info=sys.exc_info())
    outcome = convert_record(_wire(record))
    assert isinstance(outcome, Recognised)
    event = outcome.event
    assert event["type"] == "error"
    assert event["category"] == "app.db"
    assert event["details"]["exception"] == {"type": "KeyError", "message": "order_7", "stack": ""}
    assert event["details"]["caller"] == "/srv/app/db.py:42"
    assert event["details"]["function"] == "query"


def test_missing_msg_is_a_rejection_naming_the_field() -> None:
    outcome = convert_record({"levelname": "INFO", "name": "x"})
    assert isinstance(outcome, Rejected)
    assert "msg is required" in str(outcome)
    odd = convert_record({"msg": "hi", "levelname": "LOUD", "created": "yesterday"})
    assert isinstance(odd, Recognised)
    assert odd.event["type"] == "info"
    assert odd.event["details"]["level"] == "LOUD"
    assert len(odd.event["details"]["dialect_issues"]) == 2
