"""The defense registry: names used by the CLI and experiment specs."""

from __future__ import annotations

from typing import Any

from poisonlab._registry import Registry

DEFENSES: Registry[Any] = Registry("defense")
