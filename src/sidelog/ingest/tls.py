"""TLS for the endpoints of a shared server: one server-side ``ssl.SSLContext``.

On a network others share, a bearer token sent over plain HTTP can be read by
anyone on the path. ``--tls-cert`` and ``--tls-key`` (README "Sharing one server")
make the HTTP endpoint speak HTTPS: the accept loop (sidelog/ingest/accept.py)
wraps every connection in this context. The TCP endpoint stays plain NDJSON (its
clients speak no TLS); the README says how to keep it off an untrusted network. A
certificate or key that does not load stops the start with one line naming the file.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from sidelog.errors import StartupError

__all__ = ["server_context"]


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS 1.2+ server context from a PEM certificate (chain) and its private key.

    Raises ``StartupError`` with one line: a missing or unreadable file, a file that
    is not PEM, a key that does not match the certificate, or an encrypted key
    (sidelog cannot ask for a passphrase).
    """
    for what, path in (("certificate", cert), ("key", key)):
        if not path.exists():
            raise StartupError(f"cannot load the TLS {what} {path}: no such file")
        if not path.is_file():
            raise StartupError(f"cannot load the TLS {what} {path}: not a regular file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        hint = ""
        if "KEY_VALUES_MISMATCH" in str(exc).upper():
            hint = " (the key does not belong to the certificate)"
        raise StartupError(
            f"cannot load the TLS certificate {cert} with key {key}: {reason.lower()}{hint}"
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StartupError(f"cannot load the TLS certificate {cert} with key {key}: {reason}") from None
    return context


def _no_passphrase() -> str:
    raise ValueError("the key is encrypted; give sidelog an unencrypted key (readable only by you)")
