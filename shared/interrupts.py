"""Holding Ctrl-C and SIGTERM while a group of files is written, so an interrupted run never has
a checkpoint from one epoch and a state file from another."""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the block with SIGINT/SIGTERM held; a signal that arrived meanwhile is delivered to
    its original handler when the block ends. Signals can only be handled in the main thread:
    elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[tuple[int, FrameType | None]] = []
    saved: dict[int, Any] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append((signum, frame))

    for sig in SIGNALS:
        saved[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if pending:
            signum, frame = pending[0]
            handler = saved[signum]
            if callable(handler):
                handler(signum, frame)  # e.g. raises KeyboardInterrupt
            elif handler in (signal.SIG_DFL, None):
                signal.raise_signal(signum)
