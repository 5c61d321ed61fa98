"""Running a sweep: every cell not yet in the store, on local processes or a Dask cluster."""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from poisonlab._errors import PoisonlabError
from poisonlab.experiments.cell import data_fingerprint, run_cell
from poisonlab.experiments.dask_client import dask_client
from poisonlab.experiments.spec import Cell, SweepSpec
from poisonlab.experiments.store import ResultStore


@dataclasses.dataclass(frozen=True)
class Progress:
    """One finished (or failed) cell, as reported to a progress callback."""

    done: int
    total: int
    label: str
    seconds: float
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """What a sweep run did."""

    total: int
    skipped: int
    ran: int
    failed: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


def _safe_run(cell: Cell) -> tuple[dict[str, Any] | None, str | None]:
    """Run a cell; a user-caused error (a budget larger than the data, ...) is returned, not raised."""
    try:
        return run_cell(cell), None
    except PoisonlabError as error:
        return None, str(error)


def _local(
    cells: list[Cell], workers: int
) -> Iterator[tuple[Cell, tuple[dict[str, Any] | None, str | None]]]:
    if workers <= 1:
        for cell in cells:
            yield cell, _safe_run(cell)
        return
    context = multiprocessing.get_context("spawn")  # no fork: safe with BLAS threads and on every OS
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures: dict[Future[tuple[dict[str, Any] | None, str | None]], Cell] = {
            pool.submit(_safe_run, cell): cell for cell in cells
        }
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _dask(cells: list[Cell], address: str) -> Iterator[tuple[Cell, tuple[dict[str, Any] | None, str | None]]]:
    with dask_client(address) as client:
        distributed: Any = importlib.import_module("distributed")  # importable: the client connected
        futures = client.map(_safe_run, cells, pure=False)
        owner = {future.key: cell for future, cell in zip(futures, cells)}
        for future in distributed.as_completed(futures):
            yield owner[future.key], future.result()


def run_sweep(
    spec: SweepSpec,
    store: ResultStore,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> SweepSummary:
    """Run every cell of `spec` that `store` does not hold yet; store each as it finishes.

    Parameters
    ----------
    spec : SweepSpec
    store : ResultStore
    workers : int, optional
        Local worker processes (default: the machine's cores; 1 runs in this process).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); cells then run there.
    on_progress : callable, optional
        Called with a `Progress` after every finished or failed cell.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from poisonlab.experiments.spec import parse_spec
    >>> spec = parse_spec({"data": "article", "seeds": [0], "victim": [{"name": "nb"}],
    ...                    "attack": [{"name": "label_flip", "n": [1, 2]}]})
    >>> with ResultStore(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite") as store:
    ...     first = run_sweep(spec, store, workers=1)
    ...     again = run_sweep(spec, store, workers=1)
    >>> (first.ran, again.ran, again.skipped)
    (2, 0, 2)
    """
    started = time.perf_counter()
    fingerprint = data_fingerprint(spec.data, spec.split_seed)
    cells = spec.cells()
    finished = store.finished_keys()
    pending = [cell for cell in cells if cell.key(fingerprint) not in finished]
    skipped = len(cells) - len(pending)
    if scheduler is not None:
        results = _dask(pending, scheduler)
    else:
        results = _local(pending, min(workers or os.cpu_count() or 1, max(len(pending), 1)))
    ran = failed = 0
    for cell, (result, error) in results:
        key = cell.key(fingerprint)
        if result is None:
            failed += 1
            store.add_error(key, spec.name, cell.describe(), error or "unknown error")
        else:
            ran += 1
            store.add(key, spec.name, cell.describe(), result)
        if on_progress is not None:
            seconds = 0.0 if result is None else float(result["timings"]["total"])
            on_progress(Progress(skipped + ran + failed, len(cells), cell.label(), seconds, error))
    return SweepSummary(len(cells), skipped, ran, failed, time.perf_counter() - started)
