"""`dask_client`: a connection to a Dask distributed scheduler, with errors a user can act on.

Sweeps (one cell per task) and scans (one detector per task) run on a cluster through it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from poisonlab._errors import DataError


@contextlib.contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` connected to the scheduler at `address`, closed on exit.

    Raises `DataError` when the ``dask`` extra is not installed or the scheduler cannot be
    reached within 10 seconds.

    Examples
    --------
    With a scheduler running (``dask scheduler`` on HOST, ``dask worker tcp://HOST:8786`` on
    each machine)::

        with dask_client("tcp://HOST:8786") as client:
            client.submit(sum, [1, 2]).result()  # 3, computed on a worker

    (Not run as a doctest: it needs a cluster; ``tests/experiments`` start a ``LocalCluster``.)
    """
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise DataError(
            "Running on a Dask cluster needs distributed: pip install 'poisonlab[dask]'."
        ) from None
    try:
        client = distributed.Client(address, timeout="10s")
    except OSError as error:
        raise DataError(f"Cannot reach the Dask scheduler at {address}: {error}.") from None
    try:
        yield client
    finally:
        client.close()


__all__ = ["dask_client"]
