"""Helpers shared by the benchmarks: scratch databases, Django setup, result rows."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


def recreate_database(dbname: str) -> str:
    """Drop and create a scratch database; return its URL."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return pg_url(dbname)


def drop_database(dbname: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--noinput"], cwd=ROOT, env=env, check=True
    )


def setup_django(url: str, settings_module: str = "oms.settings") -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def row(name: str, value: float, unit: str, reference: str = "", goal: str = "") -> dict:
    return {"name": name, "value": value, "unit": unit, "reference": reference, "goal": goal}


def print_table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        value = f"{r['value']:,.1f}" if isinstance(r["value"], float) else f"{r['value']:,}"
        extra = "  ".join(x for x in (r.get("reference", ""), r.get("goal", "")) if x)
        print(f"  {r['name']:<{width}}  {value:>12} {r['unit']:<10} {extra}")
