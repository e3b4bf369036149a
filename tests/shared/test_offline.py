"""Every network loader, pointed at an address that never answers (a loopback port whose accept
queue is full: connections hang as on a black-holed network), fails within 15 seconds with the
default timeout, naming the local-file option and the offline dataset. TensorFlow is imported
first, so the time measured is the loader's, not the interpreter's start-up. Run with ``-s`` to
see each loader's measured failure time."""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..helpers import assert_one_error

LIMIT_S = 15.0


@pytest.fixture
def black_hole() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` where a connection attempt hangs until its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)  # fills the accept queue
    probe = socket.socket()
    probe.settimeout(0.3)
    with pytest.raises(socket.timeout):  # the premise: the next connection hangs
        probe.connect(("127.0.0.1", port))
    probe.close()
    yield f"http://127.0.0.1:{port}"
    filler.close()
    server.close()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, black_hole: str) -> str:
    """An empty download cache, the default network timeout, and pip pointed at the black hole
    (its own configuration and local wheel folders ignored)."""
    monkeypatch.setenv("REGAPPS_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("REGAPPS_NET_TIMEOUT", raising=False)  # the shipped default (5 s)
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", f"{black_hole}/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    return black_hole


def _point(monkeypatch: pytest.MonkeyPatch, module: str, name: str, url: str) -> None:
    import importlib

    monkeypatch.setattr(importlib.import_module(module), name, url)


LOADERS = {
    # id: (argv, the module attribute holding the host, needles: local-file option, offline dataset)
    "tfds-cifar10": (["image", "train"], ("regapps.apps.image.data", "CIFAR10_URL"),
                     ("cannot reach 127.0.0.1", "--data-dir", "--dataset digits")),
    "tfds-imdb": (["text", "train"], ("regapps.apps.text.data", "IMDB_URL"),
                  ("cannot reach 127.0.0.1", "--data-dir", "--csv", "--dataset rt-snippets")),
    "yfinance": (["ts", "backtest", "--ticker", "MSFT"], ("regapps.apps.ts.yahoo", "YAHOO_URL"),
                 ("MSFT", "cannot reach 127.0.0.1", "--csv", "--source sample")),
    "pkgdata-rt-snippets": (["text", "train", "--dataset", "rt-snippets"], None,
                            ("vaderSentiment==3.3.2", "rt-snippets", "--csv", "--data-dir")),
    "pkgdata-ts-sample": (["ts", "backtest", "--source", "sample", "--ticker", "IBM"], None,
                          ("bokeh-sampledata==2026.1", "--source sample", "--csv")),
    "pkgdata-ts-weather": (["ts", "backtest", "--source", "weather", "--series", "seattle-hourly"], None,
                           ("vega_datasets==0.9.0", "--source weather", "--csv")),
}


@pytest.mark.parametrize("loader", list(LOADERS))
def test_loader_fails_fast_when_unreachable(loader: str, offline: str, cli: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    argv, where, needles = LOADERS[loader]
    if where is not None:
        _point(monkeypatch, *where, f"{offline}/data")
    start = time.monotonic()
    result = cli(*argv, "--runs-dir", str(tmp_path / "runs"))
    seconds = time.monotonic() - start
    print(f"\n{loader}: failed after {seconds:.1f} s offline: {result.stderr.strip()[:160]}")
    assert_one_error(result, *needles)
    assert seconds < LIMIT_S
    assert not (tmp_path / "runs").exists() and not any((tmp_path / "cache").rglob("*.*"))


def _packaged(which: str) -> tuple[Any, Any, list[str]]:
    """(spec, loader(cache) -> data with .checksum(), CLI argv) of a registry-packaged dataset."""
    from regapps.apps.text.data import RT_SNIPPETS, load_rt_snippets
    from regapps.apps.ts.data import SAMPLE, WEATHER, load_sample, load_weather

    if which == "rt-snippets":
        return RT_SNIPPETS, load_rt_snippets, ["text", "train", "--dataset", "rt-snippets"]
    if which == "ts-weather":
        return (WEATHER["seattle-daily"][0], lambda cache: load_weather("seattle-daily", cache),
                ["ts", "backtest", "--source", "weather"])
    return SAMPLE, lambda cache: load_sample("IBM", cache), ["ts", "backtest", "--source", "sample", "--ticker", "IBM"]


@pytest.mark.parametrize("which", ["rt-snippets", "ts-sample", "ts-weather"])
def test_damaged_cached_download_is_fetched_again(which: str, tmp_path: Path) -> None:
    from regapps.shared.pkgdata import sha256_file

    spec, load, _ = _packaged(which)
    reference = load(tmp_path).checksum()
    cached = tmp_path / spec.cache_name
    good = cached.read_bytes()
    for damaged in (good[: len(good) // 2], good[:-1] + bytes([good[-1] ^ 1])):  # truncated, tampered
        cached.write_bytes(damaged)
        assert load(tmp_path).checksum() == reference
        assert sha256_file(cached) == spec.sha256


@pytest.mark.parametrize("which", ["rt-snippets", "ts-sample", "ts-weather"])
def test_damaged_cached_download_offline_is_a_clear_error(which: str, offline: str, cli: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGAPPS_NET_TIMEOUT", "1")  # the timing is tested above
    spec, _, argv = _packaged(which)
    cached = tmp_path / "cache" / spec.cache_name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"tampered: not the pinned file\n")
    result = cli(*argv, "--runs-dir", str(tmp_path / "runs"))
    assert_one_error(result, spec.cache_name, "failed its checksum", spec.requirement, "--csv")
    assert not cached.exists()  # refused, never used
