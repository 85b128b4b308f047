"""The realistic event mix (README "Performance"), shared by ``sidelog demo`` and ``sidelog bench``.

Eight categories (auth, onboarding, payment, calls, ui, system, api, error); levels
20% debug, 55% info, 17% warn, 8% error; sources
server/client/api/middleware/system; 500 users (10% of events anonymous) and 2,000
sessions; messages from about 200 templates with varying numbers and ids, so errors
fall into a realistic number of groups; ``details`` an object of about ten keys
(~300 bytes). Deterministic for a given seed, so benchmark runs are comparable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

CATEGORIES = ("auth", "onboarding", "payment", "calls", "ui", "system", "api", "error")
LEVEL_WEIGHTS = (("debug", 20), ("info", 55), ("warn", 17), ("error", 8))
SOURCES = ("server", "client", "api", "middleware", "system")
SOURCE_WEIGHTS = (40, 30, 15, 10, 5)

_SUBJECTS: dict[str, tuple[str, ...]] = {
    "auth": (
        "User login attempt",
        "Authentication",
        "Session refresh",
        "OAuth callback from google",
        "Password reset",
        "Token validation",
    ),
    "onboarding": (
        "Onboarding step {n}",
        "Phone validation",
        "Profile setup",
        "Welcome email",
        "Onboarding survey",
        "Terms acceptance",
    ),
    "payment": (
        "Payment {n} cents",
        "Stripe webhook evt_{hex}",
        "Checkout session cs_{hex}",
        "Invoice {n}",
        "Refund for order {n}",
        "Subscription sub_{hex}",
    ),
    "calls": (
        "Voice call to +1555{n}",
        "ElevenLabs agent agent_{hex}",
        "Call transcript {n}",
        "Call recording {uuid}",
        "Outbound dial",
        "Voicemail detection",
    ),
    "ui": (
        "Button click on /checkout",
        "Page view /dashboard",
        "Modal opened",
        "Form submit",
        "Render of component {n}",
        "Navigation to /settings",
    ),
    "system": (
        "Database query getUserByPhone",
        "Cache warmup",
        "Cron job {n}",
        "Queue worker {n}",
        "Memory check",
        "Health probe",
    ),
    "api": (
        "GET /api/users/{n}",
        "POST /api/calls",
        "GET /api/payments/{n}",
        "PUT /api/profile",
        "DELETE /api/session/{hex}",
        "POST /api/webhooks/stripe",
    ),
    "error": (
        "Unhandled exception in request {uuid}",
        "TypeError in render",
        "Promise rejection",
        "Timeout after {n} ms",
        "Network error",
        "Null reference in handler",
    ),
}
_OUTCOMES: dict[str, tuple[str, ...]] = {
    "debug": ("started", "cache hit", "payload parsed", "retrying in {n} ms"),
    "info": ("completed", "succeeded in {n} ms", "recorded", "accepted"),
    "warn": ("slow: {n} ms", "retried {n} times", "deprecated parameter used", "near quota"),
    "error": (
        "failed",
        "failed: signature_mismatch",
        "failed with status {n}",
        "timed out after {n} ms",
    ),
}
_USER_MESSAGES = (
    "Something went wrong. Please try again.",
    "Login failed. Please try again.",
    "Please enter a valid phone number.",
    "Your payment could not be processed.",
)


def template_count() -> int:
    """Number of distinct message templates (subject x outcome)."""
    return sum(len(s) for s in _SUBJECTS.values()) * len(_OUTCOMES["info"])


class Workload:
    """Generates wire events (dicts) of the benchmark mix."""

    def __init__(self, seed: int = 7, users: int = 500, sessions: int = 2000) -> None:
        self._rng = random.Random(seed)
        self._users = [f"user_{i:04d}" for i in range(users)]
        self._sessions = [f"sess_{i:05d}" for i in range(sessions)]
        self._levels = [name for name, _ in LEVEL_WEIGHTS]
        self._level_weights = [weight for _, weight in LEVEL_WEIGHTS]

    def _fill(self, template: str) -> str:
        rng = self._rng
        if "{" not in template:
            return template
        return template.format(
            n=rng.randint(1, 99999),
            hex=f"{rng.getrandbits(40):010x}",
            uuid=f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-8{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
        )

    def event(self, now_ms: int | None = None) -> dict[str, Any]:
        """One event as a wire object."""
        rng = self._rng
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        level = rng.choices(self._levels, self._level_weights)[0]
        source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
        subject = self._fill(rng.choice(_SUBJECTS[category]))
        outcome = self._fill(rng.choice(_OUTCOMES[level]))
        event: dict[str, Any] = {
            "category": category,
            "type": level,
            "message": f"{subject} {outcome}",
            "source": source,
            "sessionId": rng.choice(self._sessions),
            "url": f"http://localhost:3000/{category}/{rng.randint(1, 40)}",
            "details": {
                "requestId": f"req_{rng.getrandbits(48):012x}",
                "durationMs": rng.randint(1, 3000),
                "attempt": rng.randint(1, 3),
                "region": rng.choice(("us-east-1", "eu-west-1", "ap-south-1")),
                "version": "1.4.2",
                "feature": rng.choice(("checkout", "calls", "profile", "search")),
                "cached": rng.random() < 0.3,
                "items": rng.randint(0, 12),
                "amount": rng.randint(100, 50000),
                "note": rng.choice(("first try", "after retry", "from webhook", "scheduled")),
            },
        }
        if rng.random() >= 0.10:
            event["userId"] = rng.choice(self._users)
        if now_ms is not None:
            event["timestamp"] = now_ms
        if level == "error":
            event["showToUser"] = rng.random() < 0.5
            if event["showToUser"]:
                event["userMessage"] = rng.choice(_USER_MESSAGES)
            if rng.random() < 0.3:
                event["details"]["exception"] = {
                    "type": rng.choice(("ValueError", "TimeoutError", "KeyError")),
                    "stack": f'Traceback (most recent call last):\n  File "/app/{category}.py", '
                    f"line {rng.randint(10, 400)}, in handle\n",
                }
        return event

    def events(self, count: int, now_ms: int | None = None) -> Iterator[dict[str, Any]]:
        """``count`` events."""
        for _ in range(count):
            yield self.event(now_ms)
