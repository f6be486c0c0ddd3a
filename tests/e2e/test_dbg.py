import pytest


@pytest.fixture(scope="module")
def modfix(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        print("NAME", connection.settings_dict["NAME"])
    yield


def test_x(modfix):
    pass


def test_y(db):
    pass
