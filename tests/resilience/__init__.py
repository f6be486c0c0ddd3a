"""Fault-tolerance and scale-out tests: real gunicorn and django-q2 processes against
the test database, killed and disconnected on purpose (see docs/deploy.md)."""
