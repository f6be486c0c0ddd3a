"""django-q2 jobs of the orders app (scheduled by ``manage.py setup_schedules``)."""

from orders import delays


def detect_delays() -> dict:
    """Every 15 minutes: raise and clear the at-risk and late flags."""
    return delays.detect_delays()
