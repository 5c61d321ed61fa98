"""Monitoring: prediction drift in production, and the deploy gate that runs before it.

Names are imported on first use, so ``poisonlab.monitoring.thresholds`` (what the command
line reads for its ``--help``) loads without the statistics behind it.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "Baseline": "baseline",
    "baseline_from_model": "baseline",
    "baseline_from_predictions": "baseline",
    "baseline_from_records": "baseline",
    "ProbeResult": "canaries",
    "default_canaries": "canaries",
    "probe": "canaries",
    "probe_all": "canaries",
    "MetricComparison": "compare",
    "compare_models": "compare",
    "DriftMonitor": "drift",
    "WindowReport": "drift",
    "compare_window": "drift",
    "monitor_stream": "drift",
    "population_stability_index": "drift",
    "Check": "gate",
    "GateReport": "gate",
    "mine_gate_triggers": "gate",
    "run_gate": "gate",
    "RecordBatch": "records",
    "read_records": "records",
    "DEFAULT_WINDOW": "thresholds",
    "DriftThresholds": "thresholds",
    "GateThresholds": "thresholds",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'poisonlab.monitoring' has no attribute {name!r}")
    return getattr(importlib.import_module(f"poisonlab.monitoring.{_HOMES[name]}"), name)


def __dir__() -> list[str]:
    return __all__
