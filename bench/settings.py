"""Benchmark-only settings: the project settings plus a no-op DRF endpoint."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

from oms.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
SECURE_SSL_REDIRECT = False  # the benchmark talks plain HTTP on loopback
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
