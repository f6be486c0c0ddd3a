"""Browser tests: Playwright drives Debian's chromium (no browser download) against
pytest-django's live server.

Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
thread with a running loop unless told it is safe, which it is here (one test thread,
the live server in its own thread)."""

import os
import shutil
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _skip_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


SCREENSHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def demo_server(request, django_db_setup, django_db_blocker):
    """The demo (``seed_demo``) loaded once for the module and served by a live server of
    its own: the walks read and change the same shop one after the other, as people do.
    (pytest-django's ``live_server`` flushes the database after every test.) The
    database is flushed when the module is done, so other tests start empty."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.live_server_helper import LiveServer

    from demo.seeder import seed_demo
    from orders.delays import detect_delays

    created = None
    with django_db_blocker.unblock():
        # pytest-django creates the test database only when some collected test asks for
        # the ``db`` fixture; run on their own, these walks create it themselves.
        if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        seed_demo()
        detect_delays()  # as the 15-minute schedule would, right after the seed
        server = LiveServer("127.0.0.1:0")
    try:
        yield server
    finally:
        server.stop()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
            if created is not None:
                teardown_databases(created, verbosity=0)


@pytest.fixture
def demo(demo_server, django_db_blocker):
    """The demo server's URL, with database access for the test's own checks."""
    with django_db_blocker.unblock():
        yield demo_server.url


@pytest.fixture
def shots(request) -> "Shots":
    folder = SCREENSHOTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return Shots(folder)


class Shots:
    """Screenshots of a walk, kept as CI artifacts (tests/artifacts/screenshots/)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.n = 0

    def __call__(self, page, name: str) -> None:
        self.n += 1
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = self.folder / f"{self.n:02d}-{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
