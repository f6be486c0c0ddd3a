"""Helpers of the resilience tests: the test database as a URL for subprocesses, and
gunicorn / django-q2 cluster subprocesses that are always cleaned up."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

postgres_only = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":", 1)[0] not in ("postgres", "postgresql"),
    reason="needs PostgreSQL: server and worker subprocesses share the test database "
    "(set DATABASE_URL)",
)


def database_url(application_name: str = "") -> str:
    """The pytest test database (``connection.settings_dict``) as a DATABASE_URL; the
    application name lets a test find the subprocess's backends in pg_stat_activity."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    url = f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return url + (f"?application_name={application_name}" if application_name else "")


def admin_connection() -> psycopg.Connection:
    """A plain autocommit psycopg connection to the test database, outside Django."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """Start ``python <args>`` in the repository root, in its own process group (so the
    whole tree can be signalled at once), output to ``log_path``."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process by stop()
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log = log
    proc.log_path = log_path
    proc.stopped = False
    return proc


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop(proc: subprocess.Popen | None, *, grace: float = 5.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds; never raises."""
    if proc is None or proc.stopped:
        return
    if proc.poll() is None:
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # children (gunicorn or q2 workers) may outlive their parent: end the whole group
    kill_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    proc.log.close()
    proc.stopped = True


def stop_all(procs, *, grace: float = 5.0) -> None:
    """SIGTERM every process group at once, then stop each (SIGKILL after ``grace``)."""
    for proc in procs:
        if proc is not None and not proc.stopped and proc.poll() is None:
            kill_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            stop(proc, grace=0)


def output(proc: subprocess.Popen, tail: int = 4000) -> str:
    proc.log.flush()
    return proc.log_path.read_bytes().decode(errors="replace")[-tail:]


def start_gunicorn(*, url: str, workers: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn with production settings (DEBUG off) on a free port, once it answers."""
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DEBUG": "0",
        "SECRET_KEY": "resilience-test-secret-key-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "60",
        "Q_SYNC": "0",
    }
    proc = spawn(
        [
            "-m",
            "gunicorn",
            "oms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ],
        env,
        log_path,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop(proc)
            raise RuntimeError(f"gunicorn exited: {output(proc)}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=2)
            return proc, port
        except urllib.error.HTTPError:
            return proc, port  # any HTTP answer (401 here) means the workers are up
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"gunicorn did not answer within 60 s: {output(proc)}")


def start_cluster(*, env: dict, log_path: Path) -> subprocess.Popen:
    """``manage.py qcluster`` with asynchronous tasks, logging at INFO (``running``)."""
    return spawn(
        ["manage.py", "qcluster"],
        {"Q_SYNC": "0", "LOG_LEVEL": "INFO", "DJANGO_SETTINGS_MODULE": "oms.settings", **env},
        log_path,
    )


def wait_for(predicate, *, timeout: float, interval: float = 0.05, what="condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``
    (``what`` names the wait in the failure, a callable is evaluated only then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            what = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_running(proc: subprocess.Popen, *, timeout: float = 60) -> None:
    """Wait until a q2 cluster logs that it runs (its workers are up)."""

    def running():
        if proc.poll() is not None:
            raise AssertionError(f"the cluster exited: {output(proc)}")
        return "running" in output(proc, tail=100_000)

    wait_for(running, timeout=timeout, interval=0.1, what="the q2 cluster to start")
