"""Where cv trials run: ``sequential`` (this process; halving keeps survivors' models between
rungs: sequential.py), ``local`` (N worker processes on this machine, loky's process pool as
shipped with joblib) or ``dask`` (a dask.distributed cluster, extra ``regapps[dask]``).

The trials of one rung are independent, so the process executors run them all at once and hand
each result back the moment it returns; the engine records it then, in this process, so
``cv_results.csv``, resume and reports are the same whichever executor ran the trials. Process
executors retrain a halving survivor from scratch to the rung's epoch, which gives the result
the warm-started sequential run gets (its schedule is laid out for the full budget either way).

The task (the app's data and how to train on it) reaches each worker once: as the pool's
initializer argument (``local``) or scattered to every worker of the cluster (``dask``); a trial
then carries only its config and fold indices.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, ParameterError
from .protocols import CVTask, Executor, Finished, TrialResult, TrialSpec
from .sequential import SequentialExecutor

__all__ = ["EXECUTORS", "DaskExecutor", "ExecutorChoice", "LocalExecutor", "SequentialExecutor",
           "make_executor", "run_trial"]

log = logging.getLogger(__name__)

EXECUTORS = ("sequential", "local", "dask")
CONNECT_TIMEOUT = "10s"
_NEEDS_DASK = "{param} dask needs dask.distributed: pip install 'regapps[dask]'"


def run_trial(task: CVTask, spec: TrialSpec) -> tuple[TrialResult, float]:
    """What a worker runs: train one trial from scratch and score it (``spec.keep`` is moot:
    nothing stays in a worker)."""
    if "tensorflow" not in sys.modules:  # a fresh worker: import it without its start-up lines
        from ..environment import import_tensorflow

        import_tensorflow()
    start = time.perf_counter()
    result = task.start(spec.config, spec.train_idx, spec.val_idx).advance(spec.epochs)
    return result, time.perf_counter() - start


# --- local processes ------------------------------------------------------------------------
_WORKER_TASK: list[CVTask] = []  # the task a local worker process was started with


def _install_task(task: CVTask) -> None:
    _WORKER_TASK[:] = [task]


def _run_installed(spec: TrialSpec) -> tuple[TrialResult, float]:
    return run_trial(_WORKER_TASK[0], spec)


class LocalExecutor:
    """``jobs`` worker processes (spawned, so TensorFlow starts clean in each), each with
    ``cpu_count // jobs`` TensorFlow threads unless TF_NUM_INTRAOP_THREADS is set."""

    name = "local"

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool: Any = None
        self._task: CVTask | None = None

    def _pool_for(self, task: CVTask) -> Any:
        if self._pool is None or self._task is not task:
            from joblib.externals.loky import ProcessPoolExecutor

            self.close()
            threads = str(max(1, (os.cpu_count() or 1) // self.jobs))
            env = {"TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS", threads),
                   "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_install_task,
                                             initargs=(task,), env=env)
            self._task = task
        return self._pool

    def run(self, task: CVTask, specs: Sequence[TrialSpec]) -> Iterator[Finished]:
        from concurrent.futures import FIRST_COMPLETED, wait

        pool = self._pool_for(task)
        pending = {pool.submit(_run_installed, spec): spec for spec in specs}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    spec = pending.pop(future)
                    result, seconds = future.result()
                    yield Finished(spec, result, seconds)
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, kill_workers=True)  # Ctrl-C: stop running trials too
            self._pool, self._task = None, None

    @property
    def workers(self) -> int:
        return self.jobs

    def forget(self, lineages: Iterable[tuple[int, int, int]]) -> None:
        """Nothing stays in a worker between trials."""


# --- dask.distributed -----------------------------------------------------------------------
class DaskExecutor:
    """Trials on a dask.distributed cluster: the scheduler at ``address``, or a LocalCluster of
    ``jobs`` worker processes on 127.0.0.1 when none is given. A trial whose worker dies is
    rerun elsewhere by the scheduler; a trial that keeps killing workers fails the search
    (finished trials stay recorded, and a resumed search goes on)."""

    name = "dask"

    def __init__(self, address: str | None = None, jobs: int = 1):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ParameterError("executor", _NEEDS_DASK) from exc
        self._cluster = None
        try:
            if address is None:
                self._cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                             host="127.0.0.1", dashboard_address=None,
                                             env={"TF_CPP_MIN_LOG_LEVEL": "3"})
                address = self._cluster.scheduler_address
            self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ConfigError(f"cannot reach the dask scheduler at {address}: {exc}") from exc
        self._scattered: tuple[CVTask, Any] | None = None
        log.info("dask: %d workers at %s", len(self.client.scheduler_info().get("workers", {})), address)

    def run(self, task: CVTask, specs: Sequence[TrialSpec]) -> Iterator[Finished]:
        from distributed import as_completed

        if self._scattered is None or self._scattered[0] is not task:
            self._scattered = (task, self.client.scatter(task, broadcast=True, hash=False))
        remote = self._scattered[1]
        futures = {self.client.submit(run_trial, remote, spec, pure=False): spec for spec in specs}
        try:
            for future, (result, seconds) in as_completed(futures, with_results=True):
                yield Finished(futures[future], result, seconds)
        finally:
            self.client.cancel(list(futures))

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def forget(self, lineages: Iterable[tuple[int, int, int]]) -> None:
        """Nothing stays in a worker between trials."""

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


@dataclass(frozen=True)
class ExecutorChoice:
    """Where a search's trials are to run, checked when it is made (before anything starts);
    :meth:`make` starts the executor, which the caller closes."""

    name: str = "sequential"
    jobs: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        name, jobs, scheduler = self.name, self.jobs, self.scheduler
        if name not in EXECUTORS:
            raise ParameterError("executor", "{param} {name!r} is not one of {choices}", name=name,
                                 choices=", ".join(EXECUTORS))
        if jobs is not None and jobs < 1:
            raise ParameterError("jobs", "{param} must be at least 1, got {jobs}", jobs=jobs)
        if scheduler is not None and name != "dask":
            raise ParameterError("scheduler", "{param} goes with {executor} dask")
        if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
            raise ParameterError("scheduler", "{param} expects an address like tcp://HOST:8786, got {address!r}",
                                 address=scheduler)
        if name == "sequential" and jobs not in (None, 1):
            raise ParameterError("jobs", "{param} goes with {executor} local or dask")
        if name == "dask":
            from importlib.util import find_spec

            if find_spec("distributed") is None:
                raise ParameterError("executor", _NEEDS_DASK)

    def make(self) -> Executor:
        if self.name == "sequential":
            return SequentialExecutor()
        workers = self.jobs or os.cpu_count() or 1
        return LocalExecutor(workers) if self.name == "local" else DaskExecutor(self.scheduler, workers)


def make_executor(name: str, jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for ``name``, ``jobs`` and ``scheduler`` (checked first). The caller closes it."""
    return ExecutorChoice(name, jobs, scheduler).make()
