"""Defenses: each trains a defended model and records what it did."""

from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES

__all__ = ["DEFENSES", "Defended", "Defense"]
