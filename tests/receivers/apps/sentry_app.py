"""A small app using the real Sentry SDK, pointed at sidelog (run as a subprocess by the tests).

``python sentry_app.py spotlight`` reports through ``SENTRY_SPOTLIGHT`` (set by the
test); ``python sentry_app.py dsn URL`` through a DSN. It raises a real exception in
a real function inside a transaction, logs a structured warning, flushes, and
prints the transaction's trace id so the test can check it arrived.
"""

from __future__ import annotations

import sys

import sentry_sdk


def charge_card(order_id: int) -> None:
    raise ValueError(f"card declined for order {order_id}")


def main() -> None:
    mode = sys.argv[1]
    options = {
        "release": "shop@1.0",
        "environment": "dev",
        "traces_sample_rate": 1.0,
        "enable_logs": True,
        "auto_enabling_integrations": False,  # start in a second, not three
    }
    if mode == "dsn":
        sentry_sdk.init(dsn=sys.argv[2], **options)
    else:
        sentry_sdk.init(**options)  # SENTRY_SPOTLIGHT in the environment
    sentry_sdk.set_user({"id": "u_42", "email": "dev@example.com"})
    sentry_sdk.set_tag("feature", "checkout")
    with sentry_sdk.start_transaction(op="task", name="checkout") as transaction:
        try:
            charge_card(7)
        except ValueError:
            sentry_sdk.capture_exception()
        print(transaction.trace_id, flush=True)
    sentry_sdk.logger.warning("low stock for {sku}", sku="A1")
    sentry_sdk.flush()


if __name__ == "__main__":
    main()
