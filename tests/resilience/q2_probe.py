"""A django-q2 task for the scale-out tests, imported by the clusters (their cwd is the
repository root): it records which cluster ran which job in a scratch table."""

import os
import time

from django.db import connection

TABLE = "resilience_q2_probe"


def create_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id serial PRIMARY KEY, job integer NOT NULL, "
            "cluster text NOT NULL, pid integer NOT NULL, "
            "ran_at timestamptz NOT NULL DEFAULT now())"
        )


def drop_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def rows() -> list[tuple[int, str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT job, cluster, pid FROM {TABLE} ORDER BY id")
        return cursor.fetchall()


def record(job: int, seconds: float = 0.02) -> int:
    """The probe job: a little work, then one row (job, cluster, worker pid)."""
    time.sleep(seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (job, cluster, pid) VALUES (%s, %s, %s)",
            [job, os.environ.get("PROBE_CLUSTER", "?"), os.getpid()],
        )
    return job
