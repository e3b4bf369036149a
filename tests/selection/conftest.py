"""Fixtures the cv executor tests share."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..helpers import WORKER_THREADS


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A real dask.distributed LocalCluster: two worker processes on loopback."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, env={"TF_NUM_INTRAOP_THREADS": WORKER_THREADS,
                                                   "TF_CPP_MIN_LOG_LEVEL": "3"}) as local:
        yield local
