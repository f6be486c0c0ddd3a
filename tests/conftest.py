import os

import pytest
from django.db import connection

os.environ.setdefault("Q_SYNC", "1")


@pytest.fixture(autouse=True)
def _q_sync(settings):
    # django-q2 tasks run in-process, synchronously, so tests see their effects.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


postgres_only = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":", 1)[0] not in ("postgres", "postgresql"),
    reason="concurrency tests need PostgreSQL (set DATABASE_URL)",
)
