"""Typed errors. Library code raises these; only the CLI turns them into messages and exit codes."""
from __future__ import annotations


class RegappsError(Exception):
    """Base of every error a user can cause and fix. The message is one readable line."""


class ConfigError(RegappsError):
    """A configuration value, flag or override is unknown or out of range."""


class DataError(RegappsError):
    """Input data is missing, malformed, corrupt or unsuitable."""


class DataUnavailableError(DataError):
    """A remote data source cannot be reached (offline, blocked, rate-limited)."""


class RunDirError(RegappsError):
    """A run directory is missing, unfinished, from another app, or cannot be written."""


class ModelLoadError(RegappsError):
    """A saved model cannot be loaded safely."""
