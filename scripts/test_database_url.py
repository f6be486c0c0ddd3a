"""Print the DATABASE_URL the test suite should use (``make test``).

``DATABASE_URL`` when it is set; otherwise PostgreSQL on 127.0.0.1:5432 (user
``postgres``, database ``oms_test``, created when missing) when a server answers there,
so that the suite runs the SQL production runs; otherwise nothing: SQLite.
``TEST_DB=sqlite`` forces SQLite, ``TEST_DB=postgres`` fails when no server answers.
"""

import os
import sys

LOCAL = "postgresql://postgres@127.0.0.1:5432/{name}"


def main() -> int:
    wanted = os.environ.get("TEST_DB", "auto")
    if wanted == "sqlite":
        print("")
        return 0
    if os.environ.get("DATABASE_URL"):
        print(os.environ["DATABASE_URL"])
        return 0
    try:
        import psycopg

        with psycopg.connect(LOCAL.format(name="postgres"), connect_timeout=2) as conn:
            conn.autocommit = True
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'oms_test'")
            if exists.fetchone() is None:
                conn.execute("CREATE DATABASE oms_test")
    except Exception as exc:  # no server, no such user, no driver: fall back to SQLite
        if wanted == "postgres":
            print(f"no PostgreSQL at 127.0.0.1:5432: {exc}", file=sys.stderr)
            return 1
        print("")
        return 0
    print(LOCAL.format(name="oms_test"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
