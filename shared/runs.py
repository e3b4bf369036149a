"""Run directories ``<root>/<app>/<timestamp>-<name>/`` with atomic writes and a status file.

``status.json`` is written first as ``running`` and last as ``completed``; a failed, interrupted
or killed run therefore never looks complete. Every other file is written to a temporary file
in the same folder and renamed into place.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import RunDirError

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}  # the disk, not the input
RUNNING, COMPLETED, FAILED, INTERRUPTED = "running", "completed", "failed", "interrupted"


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()  # what open() would give; mkstemp alone makes files 0600


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=json_default) + "\n")


def atomic_write_csv(path: Path, rows: Sequence[Mapping[str, Any]],
                     fieldnames: Sequence[str] | None = None) -> None:
    names = list(fieldnames) if fieldnames else _union_keys(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path for a writer that insists on a file name (plots, Keras saves)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _union_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def json_default(obj: Any) -> Any:
    """``json.dumps`` fallback for NumPy scalars and arrays and paths."""
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    slug = re.sub(r"\.{2,}", ".", slug).strip("-.")
    return slug[:60] or "run"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Run:
    """A run directory. Create with :meth:`create`, reopen with :meth:`open`."""

    path: Path
    app: str
    command: str

    @classmethod
    def create(cls, root: Path, app: str, command: str, name: str,
               folder: Path | None = None) -> Run:
        """A new run under ``root/app`` (or under ``folder``, e.g. a run's ``evaluations/``)."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(folder) if folder is not None else Path(root) / app
        try:
            base.mkdir(parents=True, exist_ok=True)
            for suffix in [""] + [f"-{i}" for i in range(1, 1000)]:
                path = base / f"{stamp}-{_slug(name)}{suffix}"
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover - a thousand runs in one second
                raise RunDirError(f"cannot find a free run directory name under {base}")
            probe = path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except PermissionError as exc:
            raise RunDirError(f"cannot write run directory under {root}: permission denied") from exc
        except OSError as exc:
            raise RunDirError(f"cannot create run directory under {root}: {exc.strerror or exc}") from exc
        run = cls(path=path, app=app, command=command)
        run.set_status(RUNNING, started=now_iso())
        log.info("run directory: %s", path)
        return run

    @classmethod
    def open(cls, path: Path, app: str | None = None, require: str | None = COMPLETED) -> Run:
        """Reopen an existing run; by default it must be a completed run of ``app``."""
        path = Path(path)
        status_file = path / STATUS_FILE
        if not path.is_dir():
            raise RunDirError(f"run directory not found: {path}")
        if not status_file.is_file():
            raise RunDirError(f"{path} is not a regapps run directory (no {STATUS_FILE})")
        try:
            status = json.loads(status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path}: unreadable {STATUS_FILE}") from exc
        if not isinstance(status, dict):
            raise RunDirError(f"{path}: malformed {STATUS_FILE}")
        if app is not None and status.get("app") != app:
            raise RunDirError(f"{path} is a run of the {status.get('app')!r} app, not {app!r}")
        if require is not None and status.get("status") != require:
            raise RunDirError(f"{path} is not a finished run (status: {status.get('status')})")
        return cls(path=path, app=str(status.get("app")), command=str(status.get("command")))

    # --- status ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / STATUS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def set_status(self, status: str, **info: Any) -> None:
        record = {**self.status(), "app": self.app, "command": self.command, "status": status,
                  "updated": now_iso(), **info}
        atomic_write_json(self.path / STATUS_FILE, record)

    def complete(self, **info: Any) -> None:
        self.set_status(COMPLETED, finished=now_iso(), **info)

    @contextlib.contextmanager
    def guard(self) -> Iterator[Run]:
        """Mark the run failed or interrupted when the body raises; re-raise."""
        start = time.perf_counter()
        try:
            yield self
        except KeyboardInterrupt:
            self.set_status(INTERRUPTED, seconds=round(time.perf_counter() - start, 2))
            raise
        except BaseException as exc:
            try:
                self.set_status(FAILED, error=f"{type(exc).__name__}: {exc}"[:500],
                                seconds=round(time.perf_counter() - start, 2))
                marked = True
            except OSError:  # a full disk may refuse even that: the status stays "running"
                marked = False
            if isinstance(exc, OSError) and exc.errno in DISK_ERRORS:
                raise RunDirError(f"cannot write the run directory {self.path}: "
                                  f"{exc.strerror or exc} (the run is "
                                  f"{'marked failed' if marked else 'left unfinished'})") from exc
            raise

    # --- files ----------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        atomic_write_json(self.file(name), obj)
        return self.file(name)

    def write_text(self, name: str, text: str) -> Path:
        atomic_write_text(self.file(name), text)
        return self.file(name)

    def write_csv(self, name: str, rows: Sequence[Mapping[str, Any]],
                  fieldnames: Sequence[str] | None = None) -> Path:
        atomic_write_csv(self.file(name), rows, fieldnames)
        return self.file(name)

    def read_json(self, name: str) -> Any:
        path = self.file(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RunDirError(f"{self.path} has no {name}") from exc
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path} is unreadable or not JSON") from exc

    def read_mapping(self, name: str) -> dict[str, Any]:
        """:meth:`read_json` for a file that must hold one JSON object, with a ``meta`` mapping
        if it has one (a run's ``config.json``)."""
        value = self.read_json(name)
        if not isinstance(value, dict) or not isinstance(value.get("meta", {}), dict):
            raise RunDirError(f"{self.file(name)} is not a regapps {name} (expected a JSON object)")
        return value
