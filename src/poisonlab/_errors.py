"""The library's exceptions: every error a user can cause is a `PoisonlabError`.

The CLI turns these into one sentence on stderr and an exit code; anything else is a bug.
"""

from __future__ import annotations


class PoisonlabError(ValueError):
    """Base class for errors caused by the user's input, not by a bug.

    It subclasses `ValueError` so code that already catches bad values keeps working.
    """


class ParameterError(PoisonlabError):
    """A component was given a parameter outside its documented domain."""


class DataError(PoisonlabError):
    """A data file or dataset cannot be used: missing, empty, malformed or unsuitable."""


class DataWarning(UserWarning):
    """Data was read, but not exactly as written (a fallback decoding, a skipped message, ...).

    The CLI prints these on stderr as ``poisonlab: warning: ...``.
    """
