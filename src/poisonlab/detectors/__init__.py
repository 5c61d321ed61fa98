"""Detectors: each returns one suspicion score per row, scored against attacks' ground truth."""

from poisonlab.detectors.base import Detector, flag_above, flag_top
from poisonlab.detectors.registry import DETECTORS

__all__ = ["DETECTORS", "Detector", "flag_above", "flag_top"]
