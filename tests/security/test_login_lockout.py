"""Brute-force protection of the staff login and the admin login (django-axes): after
five wrong passwords for one username from one address, that pair is refused for a
cooling-off period with a page that says so; every failure is kept; an attacker at
another address cannot lock the manager out of theirs."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kernel.roles import MANAGER, sync_groups

ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"
PASSWORD = "right-pass-2026"

LOGINS = {"staff": "/accounts/login/", "admin": "/admin/login/"}


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def manager(db):
    sync_groups()
    user = User.objects.create_user("boss", password=PASSWORD)
    user.groups.add(Group.objects.get(name=MANAGER))
    return user


def attempt(url, password, ip, username="boss"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(url, {"username": username, "password": password, "next": "/"})
    return client, response


@pytest.mark.parametrize("login", ["staff", "admin"])
def test_five_wrong_passwords_lock_the_username_at_that_address(manager, login):
    url = LOGINS[login]
    for _ in range(5):
        _, response = attempt(url, "guess", ATTACKER)
        assert response.status_code in (200, 429)
    client, response = attempt(url, PASSWORD, ATTACKER)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed logins" in text and "15 minutes" in text
    assert "_auth_user_id" not in client.session  # the right password did not log in
    assert response["Retry-After"] == "900"


@pytest.mark.parametrize("login", ["staff", "admin"])
def test_the_manager_still_logs_in_from_another_address(manager, login):
    url = LOGINS[login]
    for _ in range(12):
        attempt(url, "guess", ATTACKER)
    client, response = attempt(url, PASSWORD, OFFICE)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_other_usernames_at_the_attackers_address_are_not_locked(manager):
    User.objects.create_user("clerk", password=PASSWORD)
    for _ in range(10):
        attempt("/accounts/login/", "guess", ATTACKER)
    client, response = attempt("/accounts/login/", PASSWORD, ATTACKER, username="clerk")
    assert response.status_code == 302


def test_the_lock_lifts_after_the_cooling_off_period(manager):
    for _ in range(5):
        attempt("/accounts/login/", "guess", ATTACKER)
    assert attempt("/accounts/login/", PASSWORD, ATTACKER)[1].status_code == 429
    # sixteen minutes later
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    client, response = attempt("/accounts/login/", PASSWORD, ATTACKER)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_failures_are_kept_with_address_and_username(manager):
    for _ in range(3):
        attempt("/admin/login/", "guess", ATTACKER)
    failures = AccessFailureLog.objects.filter(username="boss")
    assert failures.count() == 3
    assert set(failures.values_list("ip_address", flat=True)) == {ATTACKER}
    record = AccessAttempt.objects.get(username="boss", ip_address=ATTACKER)
    assert record.failures_since_start == 3


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(manager):
    for n in range(5):
        client = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        client.post("/accounts/login/", {"username": "boss", "password": "guess"})
    client = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.0.0.99")
    response = client.post("/accounts/login/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 429


def test_behind_one_proxy_the_lockout_keys_on_the_address_the_proxy_saw(manager, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.1.1.1"
    for _ in range(5):
        client = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}")
        client.post("/accounts/login/", {"username": "boss", "password": "guess"})
    locked = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert (
        locked.post("/accounts/login/", {"username": "boss", "password": PASSWORD}).status_code
        == 429
    )
    office = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=OFFICE)
    assert (
        office.post("/accounts/login/", {"username": "boss", "password": PASSWORD}).status_code
        == 302
    )


def test_api_token_login_is_locked_out_too(manager):
    client = APIClient(REMOTE_ADDR=ATTACKER)
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"username": "boss", "password": "guess"})
    response = client.post("/api/v1/auth/token/", {"username": "boss", "password": PASSWORD})
    assert response.status_code in (400, 429)
    assert "token" not in response.json()
    elsewhere = APIClient(REMOTE_ADDR=OFFICE)
    ok = elsewhere.post("/api/v1/auth/token/", {"username": "boss", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["token"]


def test_a_manager_reads_the_failures_in_the_admin_and_unlocks_by_deleting(manager):
    for _ in range(5):
        attempt("/accounts/login/", "guess", ATTACKER)
    client = Client()
    client.force_login(manager)
    page = client.get("/admin/axes/accessfailurelog/")
    assert page.status_code == 200 and ATTACKER in page.content.decode()
    record = AccessAttempt.objects.get(username="boss", ip_address=ATTACKER)
    client.post(f"/admin/axes/accessattempt/{record.pk}/delete/", {"post": "yes"})
    assert not AccessAttempt.objects.exists()
    assert attempt("/accounts/login/", PASSWORD, ATTACKER)[1].status_code == 302
