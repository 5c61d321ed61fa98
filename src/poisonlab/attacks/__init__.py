"""Attacks: each returns a `Poisoned` record of exactly which rows it touched."""

from poisonlab.attacks.backdoor import Backdoor
from poisonlab.attacks.base import Attack, Poisoned
from poisonlab.attacks.label_flip import LabelFlip
from poisonlab.attacks.registry import ATTACKS
from poisonlab.attacks.trigger import Trigger

__all__ = ["ATTACKS", "Attack", "Backdoor", "LabelFlip", "Poisoned", "Trigger"]
