"""Detectors: each returns one suspicion score per row, scored against attacks' ground truth."""

from poisonlab.detectors.activation_clustering import ActivationClustering
from poisonlab.detectors.base import Detector, flag_above, flag_top
from poisonlab.detectors.confident_learning import ConfidentLearning
from poisonlab.detectors.duplicate_flood import DuplicateFlood, Flood
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.knn_labels import KnnLabelDisagreement
from poisonlab.detectors.nb_influence import NaiveBayesInfluence
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.relabel import IterativeRelabel
from poisonlab.detectors.spectral_signature import SpectralSignature
from poisonlab.detectors.trigger_mining import SuspectedTrigger, TriggerMining

__all__ = [
    "DETECTORS",
    "ActivationClustering",
    "ConfidentLearning",
    "Detector",
    "DuplicateFlood",
    "Findings",
    "Flood",
    "IterativeRelabel",
    "KnnLabelDisagreement",
    "NaiveBayesInfluence",
    "SpectralSignature",
    "SuspectedTrigger",
    "TriggerMining",
    "flag_above",
    "flag_top",
]
