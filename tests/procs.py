"""Running ``regapps`` as a real process, to signal or kill it part-way."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def start(*args: str, cache: str | None = None) -> subprocess.Popen[str]:
    """``python -m regapps.apps.cli ARGS`` with stdout/stderr captured."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if cache:
        env["REGAPPS_DATA"] = cache
    return subprocess.Popen([sys.executable, "-m", "regapps.apps.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_default_sigint)


def _default_sigint() -> None:
    """A shell running the suite in the background ignores SIGINT, and children inherit that;
    give the child Python's default (KeyboardInterrupt), as a terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(probe: Callable[[], T | None], proc: subprocess.Popen[str], timeout: float = 180.0,
             every: float = 0.005) -> T:
    """Poll ``probe`` until it returns something; fail if the process ends first or time runs out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = probe()
        if found is not None:
            return found
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process ended ({proc.returncode}) before the probe matched:\n{err[-2000:]}")
        time.sleep(every)
    proc.kill()
    raise AssertionError("timed out waiting for the process")


def first(pattern: str, root: Path) -> Path | None:
    return next(iter(sorted(root.glob(pattern))), None)
