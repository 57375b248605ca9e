"""The Dask route onto a cluster: pyabc's DaskDistributedSampler on a ``dask.distributed.LocalCluster`` of two
worker processes, given as a client (left open for its owner) or as a scheduler address (its own client,
closed afterwards). The cluster is shut down when the module's tests end."""

from __future__ import annotations

import pytest

from sim.analysis.abc import run_problem
from sim.analysis.toy_stockflow import toy_problem


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True)
    try:
        yield cluster
    finally:
        cluster.close()


def test_dask_sampler_with_a_client(cluster):
    from distributed import Client, get_task_stream

    with Client(cluster) as client, get_task_stream(client) as tasks:
        res = run_problem(
            toy_problem(),
            db="sqlite://",
            population_size=40,
            max_populations=2,
            sampler="dask",
            dask_client=client,
        )
        assert client.status == "running", "the caller's client is left open"
    assert res.final_population_size == 40 and len(res.generations) == 2
    assert res.sampler.startswith("dask (2 worker threads") and not res.reproducible
    # the simulations ran as tasks on both workers (one simulation per task at batch size 1)
    assert len(tasks.data) >= sum(res.generations["simulations"])
    assert len({t["worker"] for t in tasks.data}) == 2


def test_dask_sampler_with_a_scheduler_address(cluster):
    res = run_problem(
        toy_problem(),
        db="sqlite://",
        population_size=30,
        max_populations=2,
        sampler="dask",
        scheduler_address=cluster.scheduler_address,
        dask_batch_size=4,
    )
    assert res.final_population_size == 30
    assert cluster.scheduler_address in res.sampler
