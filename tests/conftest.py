import os

import pytest
from django.db import connection

os.environ.setdefault("Q_SYNC", "1")

SLOW_FOLDERS = ("e2e", "resilience")


def pytest_collection_modifyitems(config, items):
    """Browser, resilience and soak tests are ``slow``: ``make test`` runs them as a
    stage of their own, after the fast tests."""
    for item in items:
        parts = item.path.parts
        if "tests" in parts and parts[parts.index("tests") + 1] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _q_sync(monkeypatch):
    # django-q2 tasks run in-process, synchronously, so tests see their effects.
    # django_q reads its configuration once at import, so patch the loaded value.
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def q_sync():
    """Named dependency for tests that rely on tasks running in-process (always on)."""


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


postgres_only = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":", 1)[0] not in ("postgres", "postgresql"),
    reason="concurrency tests need PostgreSQL (set DATABASE_URL)",
)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Groups and default channels come from data migrations; a ``transaction=True`` test
    flushes them away afterwards, so put them back for whoever runs next."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if marker is None and "db" not in names and "transactional_db" not in names:
        return
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.contrib.auth.models import Group

    from kernel.roles import ROLES, sync_groups
    from orders.models import Channel

    if Group.objects.filter(name__in=ROLES).count() < len(ROLES):
        sync_groups()
    for code, name, kind in (
        ("api", "API", "api"),
        ("web", "Web store", "web_store"),
        ("csv", "CSV import", "csv"),
    ):
        Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
