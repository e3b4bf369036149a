"""Fail-fast reachability checks for network loaders (tfds, yfinance, package index)."""
from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlsplit

from .errors import DataUnavailableError

DEFAULT_TIMEOUT = 5.0


def net_timeout() -> float:
    """Seconds to wait for a connection; ``REGAPPS_NET_TIMEOUT`` overrides the default."""
    try:
        return max(0.1, float(os.environ.get("REGAPPS_NET_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def ensure_reachable(url: str, *, what: str, hint: str, timeout: float | None = None) -> None:
    """Open (and close) a TCP connection to ``url``'s host within ``timeout`` seconds.

    Name resolution runs in a daemon thread so a hanging resolver cannot stall the caller.
    Raises :class:`DataUnavailableError` naming ``what`` failed and the ``hint`` (offline options).
    """
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = parts.hostname or ""
    port = parts.port or (80 if parts.scheme == "http" else 443)
    limit = net_timeout() if timeout is None else timeout
    outcome: list[BaseException | None] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=limit):
                outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(limit + 0.5)
    if not outcome:
        reason = f"no answer within {limit:g} s"
    elif outcome[0] is not None:
        exc = outcome[0]
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    else:
        return
    raise DataUnavailableError(f"{what}: cannot reach {host} ({reason}). {hint}")
