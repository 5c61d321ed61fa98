"""Versions of poisonlab and of the libraries that decide its numbers, for every stored result."""

from __future__ import annotations


def library_versions() -> dict[str, str]:
    """``{"poisonlab": ..., "scikit-learn": ..., "numpy": ...}``.

    Examples
    --------
    >>> sorted(library_versions())
    ['numpy', 'poisonlab', 'scikit-learn']
    """
    import numpy
    import sklearn

    from poisonlab import __version__

    return {"poisonlab": __version__, "scikit-learn": sklearn.__version__, "numpy": numpy.__version__}
