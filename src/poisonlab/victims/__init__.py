"""Victims: the scikit-learn Pipelines poisonlab attacks, detects on and defends."""

from poisonlab.victims.explain import NaiveBayesExplanation, WordEvidence, explain_naive_bayes
from poisonlab.victims.factory import FEATURES, VICTIMS, as_factory, make_victim, victim_label
from poisonlab.victims.scores import log_odds

__all__ = [
    "FEATURES",
    "VICTIMS",
    "NaiveBayesExplanation",
    "WordEvidence",
    "as_factory",
    "explain_naive_bayes",
    "log_odds",
    "make_victim",
    "victim_label",
]
