"""Scale-out: two django-q2 clusters (2 workers each) drain one queue at the same time,
on the ORM broker (PostgreSQL) and on Redis (``Q_BROKER=redis://...``). Every job runs,
and none runs twice: each probe job writes one row (job, cluster, worker pid) to a
scratch table.

The ORM broker hands a job out with a conditional ``UPDATE ... WHERE lock = <seen>``,
so only one cluster wins it; Redis hands it out with ``BLPOP``, which pops it for one
client only.
"""

import time

import pytest
from django.db import connection
from django_q.models import OrmQ, Schedule, Task
from django_q.tasks import async_task

from tests.resilience import q2_probe, support

pytestmark = [support.postgres_only, pytest.mark.django_db(transaction=True)]

JOBS = 200
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, flushed by the test


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not answering at {REDIS_URL}: {exc}")
    client.flushdb()
    return client


@pytest.fixture(params=["orm", "redis"])
def broker(request, monkeypatch):
    """(the Q_BROKER value for the clusters, a broker for enqueueing from this process)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # queue the jobs, don't run them here
    Schedule.objects.all().delete()  # only our jobs in the queue
    OrmQ.objects.all().delete()
    if request.param == "orm":
        yield "orm", get_broker()
        return
    client = _redis_or_skip()
    from django_q.brokers.redis_broker import Redis

    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    try:
        yield REDIS_URL, Redis()
    finally:
        client.flushdb()
        client.close()


def test_two_clusters_run_every_job_exactly_once(tmp_path, broker):
    q_broker, enqueue_to = broker
    q2_probe.create_table()
    clusters = []
    try:
        for name in ("A", "B"):
            clusters.append(
                support.start_cluster(
                    env={
                        "DATABASE_URL": support.database_url(f"oms_q2_scale_{name}"),
                        "Q_BROKER": q_broker,
                        "Q_WORKERS": "2",
                        "Q_TIMEOUT": "30",
                        "Q_RETRY": "60",
                        "PROBE_CLUSTER": name,
                    },
                    log_path=tmp_path / f"cluster-{name}.log",
                )
            )
        for cluster in clusters:
            support.wait_running(cluster)

        task_ids = [
            async_task("tests.resilience.q2_probe.record", job, broker=enqueue_to)
            for job in range(JOBS)
        ]
        support.wait_for(
            lambda: Task.objects.filter(id__in=task_ids).count() >= JOBS,
            timeout=120,
            interval=0.2,
            what=lambda: f"{JOBS} jobs to finish\n" + "\n".join(map(support.output, clusters)),
        )
        support.wait_for(
            lambda: not OrmQ.objects.exists(), timeout=30, what="the jobs to be acknowledged"
        )
        time.sleep(1)  # a job handed out twice would have the time to show up
        support.stop_all(clusters, grace=3)
        rows = q2_probe.rows()
        results = list(Task.objects.filter(id__in=task_ids).values_list("success", flat=True))
    finally:
        support.stop_all(clusters)
        q2_probe.drop_table()
        connection.close()

    jobs = [job for job, _cluster, _pid in rows]
    assert sorted(jobs) == list(range(JOBS)), "a job ran twice or never"
    assert results == [True] * JOBS
    by_cluster = {cluster for _job, cluster, _pid in rows}
    assert by_cluster == {"A", "B"}, f"only {by_cluster} took part: not a two-cluster run"
    assert len({pid for _job, _cluster, pid in rows}) >= 2
    assert not OrmQ.objects.exists()
    print(
        f"\n{q_broker}: {JOBS} jobs, "
        + ", ".join(
            f"cluster {c}: {sum(1 for r in rows if r[1] == c)} jobs" for c in sorted(by_cluster)
        )
    )
