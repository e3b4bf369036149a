"""Shared test fixtures: quiet TensorFlow, a CLI runner over the real entry point."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("REGAPPS_NET_TIMEOUT", "3")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``regapps ARGS`` in-process through ``main()`` (the console script's entry point),
    so exit codes and the one-line error translation are what a user gets."""
    from regapps.apps.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads go to a per-session cache, never into the working tree."""
    cache = os.environ.get("REGAPPS_TEST_CACHE") or str(tmp_path_factory.getbasetemp() / "cache")
    monkeypatch.setenv("REGAPPS_DATA", cache)



@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback only: any other address fails at once as if offline."""
    import socket

    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else ""
        if isinstance(host, str) and host and not (host.startswith("127.") or host in {"::1", "localhost"}):
            raise OSError(101, "Network is unreachable (blocked by the test suite)")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
