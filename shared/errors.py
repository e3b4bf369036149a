"""Typed errors. Library code raises these; only the CLI turns them into messages and exit codes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


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


class ParameterError(ConfigError):
    """A bad value of a named parameter. The message is a template: ``{param}`` stands for the
    parameter (``folds``), ``{other}`` for any other parameter the message names, and keyword
    ``values`` fill the rest (inserted as given, never read as a template). ``str(exc)`` names
    Python parameters ("folds must be at least 2, got 1"); :meth:`as_flag` names CLI flags
    ("--folds must be at least 2, got 1")."""

    def __init__(self, param: str, template: str, /, **values: Any) -> None:
        self.param, self.template, self.values = param, template, values
        super().__init__(self.render(lambda name: name))

    def render(self, name: Callable[[str], str]) -> str:
        """The message with each parameter written as ``name(parameter)``."""
        return self.template.format_map(_Fields(self, name))

    def as_flag(self) -> str:
        """The message naming command-line flags: ``n_iter`` is ``--n-iter``."""
        return self.render(lambda name: "--" + name.replace("_", "-"))

    def __reduce__(self) -> tuple[Any, ...]:  # picklable although __init__ takes more than the message
        return (_rebuild, (type(self), self.param, self.template, self.values))


class DataParameterError(ParameterError, DataError):
    """Data that a named parameter points at is missing or unsuitable (``csv``: a file)."""


class RunParameterError(ParameterError, RunDirError):
    """A run directory that does not fit the parameters given (resumed with other settings)."""


class _Fields(dict[str, Any]):
    def __init__(self, error: ParameterError, name: Callable[[str], str]) -> None:
        super().__init__(error.values)
        self.error, self.name = error, name

    def __missing__(self, key: str) -> str:  # {param}, or another parameter by its name
        return self.name(self.error.param if key == "param" else key)


def _rebuild(cls: type[ParameterError], param: str, template: str, values: dict[str, Any]) -> ParameterError:
    return cls(param, template, **values)
