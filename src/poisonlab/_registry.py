"""Registries that map the names used by the CLI and experiment specs to components."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from poisonlab._errors import ParameterError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> component map for one kind of component (attacks, victims, ...).

    Examples
    --------
    >>> shapes: Registry[type] = Registry("shape")
    >>> @shapes.register("square")
    ... class Square: ...
    >>> shapes.get("square").__name__
    'Square'
    >>> shapes.get("circle")
    Traceback (most recent call last):
    ...
    poisonlab._errors.ParameterError: Unknown shape 'circle'. Known: square.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers a component under `name`."""

        def decorate(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return decorate

    def get(self, name: str) -> T:
        """Return the component registered as `name`, or fail with the known names."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items))
            raise ParameterError(f"Unknown {self.kind} {name!r}. Known: {known}.") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._items
