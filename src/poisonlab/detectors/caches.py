"""`clear_caches`: forget everything the detectors keep between calls.

Detectors that share work within one scan keep it per dataset object (word counts, out-of-fold
probabilities, trigger-mining results, representations, flood clusters). Entries go when their
dataset is garbage-collected; this drops them at once, for cold timings or to free memory in a
long-lived process.
"""

from __future__ import annotations


def clear_caches() -> None:
    """Forget every detector cache.

    Examples
    --------
    >>> from poisonlab.data import Dataset
    >>> from poisonlab.detectors.word_counts import word_counts
    >>> ds = Dataset(["win cash", "see you"], [1, 0], ("ham", "spam"))
    >>> first = word_counts(ds)
    >>> clear_caches()
    >>> word_counts(ds) is first
    False
    """
    from poisonlab.detectors import duplicate_flood, out_of_fold, representation, trigger_mining, word_counts

    for module in (word_counts, out_of_fold, trigger_mining, representation, duplicate_flood):
        module.clear_cache()


__all__ = ["clear_caches"]
