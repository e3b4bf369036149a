"""One registry style for regularizers, optimizers and schedules (Keras' ``get()`` habit).

``get()`` takes a registered name, a dict ``{"name": ..., **params}`` or an already-built
instance; an unknown name raises :class:`ConfigError` listing the valid names. Factories
import TensorFlow lazily, so names can be listed and validated without paying for it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories ``factory(**params) -> T``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self._docs: dict[str, str] = {}

    def register(self, name: str, doc: str = "") -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._factories[name] = factory
            summary = (factory.__doc__ or "").strip().splitlines()
            self._docs[name] = doc or (summary[0] if summary else "")
            return factory

        return decorator

    def names(self) -> list[str]:
        return list(self._factories)

    def describe(self) -> dict[str, str]:
        return dict(self._docs)

    def check(self, name: str) -> str:
        """Return ``name`` if registered, else raise a ConfigError that lists the valid names."""
        if name not in self._factories:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; valid: {', '.join(self.names())}"
            )
        return name

    def get(self, identifier: str | Mapping[str, Any] | T, **kwargs: Any) -> T:
        if isinstance(identifier, str):
            name, params = identifier, {}
        elif isinstance(identifier, Mapping):
            params = dict(identifier)
            if "name" not in params:
                raise ConfigError(f"a {self.kind} given as a dict needs a 'name' key")
            name = str(params.pop("name"))
        else:
            return identifier  # an already-built instance passes through
        factory = self._factories[self.check(name)]
        try:
            return factory(**params, **kwargs)
        except TypeError as exc:
            raise ConfigError(f"bad parameters for {self.kind} {name!r}: {exc}") from exc
