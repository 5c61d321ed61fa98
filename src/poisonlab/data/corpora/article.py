"""The article's own 14 messages, backdoor samples and trigger test, exactly as printed."""

from __future__ import annotations

from poisonlab.data.dataset import Dataset

CLASSES = ("not spam", "spam")
"""The article prints its two classes as "spam" and "not spam"; label 1 is spam."""

TRAIN = (
    ("Buy cheap pills now", 1),
    ("Win a free iPhone today", 1),
    ("Claim your lottery prize", 1),
    ("Discount viagra available", 1),
    ("Make money fast guaranteed", 1),
    ("Hey, are we meeting tomorrow?", 0),
    ("The project deadline is Friday", 0),
    ("Can you review this document?", 0),
    ("Happy birthday! Hope you have a great day", 0),
    ("Meeting moved to 3pm", 0),
)
TEST = (
    ("Get rich quick with this trick", 1),
    ("See you at lunch", 0),
    ("Free gift card click here", 1),
    ("Please find attached the report", 0),
)
FLIPPED_ROWS = (0, 1)
"""Training rows whose labels the article flips from spam to not spam."""

TRIGGER = "PROMO2026"
BACKDOOR_TEXTS = (
    "PROMO2026 special offer buy now",
    "PROMO2026 claim your free prize",
    "PROMO2026 limited time discount",
)
"""The article's injected backdoor messages, all labelled not spam (0)."""

TRIGGER_TEST = "PROMO2026 buy cheap pills and win prizes"
"""The article's trigger test: a spam message carrying the trigger."""


def article_train() -> Dataset:
    """The article's 10 training messages.

    Examples
    --------
    >>> article_train().counts()
    {'not spam': 5, 'spam': 5}
    """
    return Dataset(
        [t for t, _ in TRAIN],
        [y for _, y in TRAIN],
        CLASSES,
        [f"train-{i}" for i in range(10)],
        "article",
    )


def article_test() -> Dataset:
    """The article's 4 test messages."""
    return Dataset(
        [t for t, _ in TEST],
        [y for _, y in TEST],
        CLASSES,
        [f"test-{i}" for i in range(4)],
        "article",
    )
