"""Defenses: each trains a defended model and records what it did."""

from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.dp_logistic import DPLogistic
from poisonlab.defenses.dp_naive_bayes import DPNaiveBayes
from poisonlab.defenses.partition_aggregation import (
    Certificates,
    PartitionAggregation,
    certified_accuracy_curve,
    certified_radius,
)
from poisonlab.defenses.registry import DEFENSES
from poisonlab.defenses.roni import RONI
from poisonlab.defenses.sanitize import Sanitize
from poisonlab.defenses.trigger_filter import FilteredModel, TriggerFilter, false_alarm_rate
from poisonlab.defenses.trim import Trim

__all__ = [
    "DEFENSES",
    "RONI",
    "Certificates",
    "DPLogistic",
    "DPNaiveBayes",
    "Defended",
    "Defense",
    "FilteredModel",
    "PartitionAggregation",
    "Sanitize",
    "TriggerFilter",
    "Trim",
    "certified_accuracy_curve",
    "certified_radius",
    "false_alarm_rate",
]
