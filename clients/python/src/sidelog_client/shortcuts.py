"""``EventLogger.auth`` and ``EventLogger.feedback``: two kinds of event with a fixed shape.

Kept apart from ``logger.py`` (the hot path) because they only build an ordinary
event and hand it to ``event``; they match ``logAuth`` and ``reportIssue`` in
sidelog.js, so a sign-in logged from the browser and one logged from the server look
the same in sidelog (README, "Integrations").
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_AUTH_LEVELS = {"success": "info", "failure": "warn", "error": "error"}


class EventShortcuts:
    """Mixed into ``EventLogger``: calls that give an event its category, level and details."""

    if TYPE_CHECKING:

        def event(self, message: str, **fields: Any) -> None: ...

    def auth(
        self,
        outcome: str,
        *,
        provider: str | None = None,
        user_id: str | None = None,
        reason: str | None = None,
        **details: Any,
    ) -> None:
        """An authentication outcome, category ``auth``: success is info, failure warn, error error.

        ``log.auth("failure", provider="password", user_id="u_1", reason="wrong password")``;
        other keyword arguments go into ``details``. Never raises.
        """
        try:
            result = str(outcome).strip().lower()
            info: dict[str, Any] = {"outcome": result}
            if provider is not None:
                info["provider"] = provider
            if reason is not None:
                info["reason"] = reason
            info.update(details)
            message = (
                f"Auth {result}" + (f" ({provider})" if provider else "") + (f": {reason}" if reason else "")
            )
            level = _AUTH_LEVELS.get(result, "info")
            self.event(message, category="auth", level=level, user_id=user_id, details=info)
        except Exception:  # an outcome whose __str__ fails: logging must not break a sign-in
            return

    def feedback(
        self,
        message: str,
        email: str | None = None,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        url: str | None = None,
    ) -> None:
        """What an end user reported ("the page froze"), category ``feedback``, level info. Never raises."""
        try:
            details = {"email": email} if email else None
            self.event(
                message, category="feedback", details=details, session_id=session_id, user_id=user_id, url=url
            )
        except Exception:
            return
