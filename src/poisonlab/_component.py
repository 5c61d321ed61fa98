"""`Component`: what every attack, detector and defense shares."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


class Component:
    """A frozen, keyword-only dataclass whose fields are its parameters, registered by `name`.

    Subclasses set `name` (the registry name) and `paper` (the work the technique comes from).
    """

    name: ClassVar[str]
    paper: ClassVar[str]

    def get_params(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict; ``type(self)(**params)`` rebuilds the component."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }
