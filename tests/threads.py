"""Running calls at the same instant, each in its own thread with its own connection
(the race tests)."""

import threading

from django.db import connection

JOIN_TIMEOUT = 60


def together(*calls):
    """Run each call in its own thread, released at the same instant; return
    (results, errors) in call order (None where the call raised)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(i):
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # asserted on by the test
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "threads still running: deadlock or hang?"
    return results, errors
