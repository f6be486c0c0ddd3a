"""Helpers shared by the browser tests."""

import time


def wait_until(page, expression: str, arg=None, *, timeout: float = 5_000) -> None:
    """Wait until ``expression`` (a JavaScript expression, or a function of ``arg``) is
    truthy in ``page``. Playwright's ``wait_for_function`` polls by evaluating a string
    inside the page, which our Content-Security-Policy (no 'unsafe-eval') refuses;
    ``page.evaluate`` runs through the DevTools protocol, outside the page's CSP."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression, arg) if arg is not None else page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} ms: {expression}")
        time.sleep(0.05)
