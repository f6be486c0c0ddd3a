"""The API throttles count in a cache every process shares: two gunicorn servers (as
two hosts behind one proxy would be), each its own process, give one client 20 token
logins a minute between them, not 20 each, whatever X-Forwarded-For it sends."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.resilience.support import database_url, postgres_only, start_gunicorn, stop_all

pytestmark = pytest.mark.slow  # two gunicorn servers: the second stage of make test


def token_login(port: int, n: int) -> int:
    body = urllib.parse.urlencode({"username": f"nobody-{n}", "password": "wrong"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        data=body,
        headers={
            "X-Forwarded-For": f"10.{n}.0.1",  # a new forged address on every request
            "X-Forwarded-Proto": "https",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_server_processes_share_one_token_login_budget(tmp_path):
    url = database_url("throttle")
    servers = []
    try:
        first, port_a = start_gunicorn(url=url, workers=1, log_path=tmp_path / "a.log")
        servers.append(first)
        second, port_b = start_gunicorn(url=url, workers=1, log_path=tmp_path / "b.log")
        servers.append(second)
        assert first.pid != second.pid
        from_a = [token_login(port_a, n) for n in range(12)]
        from_b = [token_login(port_b, 100 + n) for n in range(12)]
    finally:
        stop_all(servers)
    assert from_a == [400] * 12, json.dumps(from_a)
    # the second process saw the first one's 12: 8 more, then refused
    assert from_b == [400] * 8 + [429] * 4, json.dumps(from_b)
