"""One registry style for regularizers, optimizers and schedules (Keras' ``get()`` habit).

``get()`` takes a registered name or a dict ``{"name": ..., **params}``; an unknown name, or a
parameter the factory does not declare, raises :class:`ConfigError` listing the valid ones. An
already-built object passes through only where the registry was given an ``instance_of``
check that accepts it (a Keras optimizer for the optimizer registry, say); anything else is
"could not interpret", like Keras' own ``get()``. Factories import TensorFlow lazily, so names
can be listed and validated without paying for it.

Factories declare every parameter they take (no ``**kwargs``). Keyword arguments given to
``get()`` besides the identifier are the caller's context (a schedule's ``base_lr``,
``steps_per_epoch``, ...): each reaches the factory only if the factory declares it.
"""
from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")

_DECLARED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _short_repr(obj: object, limit: int = 80) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def keras_instance(dotted: str) -> Callable[[object], bool]:
    """An ``instance_of`` check for a Keras class such as ``"optimizers.Optimizer"`` that never
    imports Keras: an object can only be an instance of it once Keras has been imported."""

    def check(obj: object) -> bool:
        module = sys.modules.get("keras")
        if module is None:
            return False
        cls: Any = module
        for part in dotted.split("."):
            cls = getattr(cls, part)
        return isinstance(obj, cls)

    check.__name__ = f"keras.{dotted}"
    return check


class Registry(Generic[T]):
    """Maps names to factories ``factory(**params) -> T``.

    ``instance_of`` (a type, or a predicate ``obj -> bool``) says which already-built objects
    ``get()`` returns as they are; without it, only names and dicts are accepted.
    """

    def __init__(self, kind: str, instance_of: type | Callable[[object], bool] | None = None) -> None:
        self.kind = kind
        self._instance_of = instance_of
        self._factories: dict[str, Callable[..., T]] = {}
        self._parameters: dict[str, list[str]] = {}
        self._docs: dict[str, str] = {}

    def register(self, name: str, doc: str = "") -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            params = inspect.signature(factory).parameters.values()
            loose = [p.name for p in params if p.kind not in _DECLARED]
            if loose:
                raise ValueError(f"{self.kind} {name!r}: a factory takes named parameters only "
                                 f"(not {', '.join(loose)}), so that unknown ones can be refused")
            self._factories[name] = factory
            self._parameters[name] = [p.name for p in params]
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

    def parameters(self, name: str) -> list[str]:
        """The parameter names the factory for ``name`` declares, in order."""
        return list(self._parameters[self.check(name)])

    def _accepts(self, obj: object) -> bool:
        check = self._instance_of
        if check is None:
            return False
        if isinstance(check, type):
            return isinstance(obj, check)
        return bool(check(obj))

    def get(self, identifier: str | Mapping[str, Any] | T, **context: Any) -> T:
        """Build from a name or ``{"name": ..., **params}`` (``params`` must be declared by the
        factory); ``context`` entries are passed where the factory declares them."""
        if isinstance(identifier, str):
            name, params = identifier, {}
        elif isinstance(identifier, Mapping):
            params = dict(identifier)
            if "name" not in params:
                raise ConfigError(f"a {self.kind} given as a dict needs a 'name' key")
            name = str(params.pop("name"))
        elif self._accepts(identifier):
            return identifier  # an already-built instance passes through
        else:
            raise ConfigError(f"could not interpret {self.kind} identifier: {_short_repr(identifier)}")
        declared = self.parameters(name)
        unknown = [key for key in params if key not in declared]
        if unknown:
            which = "parameter" if len(unknown) == 1 else "parameters"
            raise ConfigError(
                f"unknown {which} {', '.join(map(repr, unknown))} for {self.kind} {name!r}; "
                f"valid: {', '.join(declared) or '(none)'}"
            )
        clash = [key for key in params if key in context]
        if clash:
            raise ConfigError(f"{self.kind} {name!r}: {', '.join(map(repr, clash))} is supplied "
                              f"by the caller, not by the {self.kind}'s parameters")
        params.update({key: value for key, value in context.items() if key in declared})
        factory = self._factories[name]
        try:
            inspect.signature(factory).bind(**params)
        except TypeError as exc:  # a required parameter is missing
            raise ConfigError(f"bad parameters for {self.kind} {name!r}: {exc}") from exc
        return factory(**params)
