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
