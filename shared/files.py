"""Checks on user-given paths, phrased the same way in every app."""
from __future__ import annotations

from pathlib import Path

from .errors import DataError


def folder_entries(path: Path, flag: str = "--data-dir") -> list[Path] | None:
    """``None`` for a file; a folder's entries otherwise. Missing, unreadable or empty -> DataError."""
    if not path.exists():
        raise DataError(f"{flag} {path} does not exist")
    if path.is_file():
        return None
    try:
        entries = list(path.iterdir())
    except PermissionError as exc:
        raise DataError(f"{flag} {path} cannot be read: permission denied") from exc
    if not entries:
        raise DataError(f"{flag} {path} is empty")
    return entries


def archive_problem(exc: BaseException) -> str:
    """One line saying why an archive cannot be read. ``tarfile.open`` lists every compression it
    tried on separate lines; that becomes a short summary."""
    text = str(exc).strip()
    if "could not be opened successfully" in text:
        return "empty file" if "empty file" in text else "not a tar, tar.gz, tar.bz2 or tar.xz archive"
    first = text.splitlines()[0] if text else ""
    return first or type(exc).__name__
