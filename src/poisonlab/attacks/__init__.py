"""Attacks: each returns a `Poisoned` record of exactly which rows it touched."""

from poisonlab.attacks.backdoor import Backdoor
from poisonlab.attacks.base import Attack, Poisoned
from poisonlab.attacks.boundary_shift import BoundaryShift
from poisonlab.attacks.clean_label_backdoor import CleanLabelBackdoor
from poisonlab.attacks.dictionary import DictionaryAttack
from poisonlab.attacks.flood import Flood
from poisonlab.attacks.focused import FocusedAttack
from poisonlab.attacks.label_flip import LabelFlip
from poisonlab.attacks.optimal_flip import OptimalFlip
from poisonlab.attacks.registry import ATTACKS
from poisonlab.attacks.trigger import Trigger

__all__ = [
    "ATTACKS",
    "Attack",
    "Backdoor",
    "BoundaryShift",
    "CleanLabelBackdoor",
    "DictionaryAttack",
    "Flood",
    "FocusedAttack",
    "LabelFlip",
    "OptimalFlip",
    "Poisoned",
    "Trigger",
]
