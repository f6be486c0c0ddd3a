"""Staff page benchmark: server time per page on the demo shop (PostgreSQL scratch db).

The login page (a template, no queries) is the reference; the order list, order detail,
pick list, pack station, stock lookup and dashboard are measured with Django's test
client in-process (no network), as the median of repeated renders with their query
counts.

    .venv/bin/python bench/pages.py
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, drop_database, migrate, print_table, recreate_database, row  # noqa: E402

DB = "oms_bench_pages"
REPEAT = 30


def run() -> list[dict]:
    url = recreate_database(DB)
    try:
        migrate(url)
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--force"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from fulfillment.models import PickList, Shipment
        from orders.models import Order

        manager = Client()
        manager.force_login(User.objects.get(username="manager"))
        order = Order.objects.order_by("-id").first()
        pick_list = PickList.objects.exclude(status="done").order_by("-id").first()
        shipment = Shipment.objects.filter(status="picked").first() or Shipment.objects.first()
        pages = [
            ("login page (reference)", Client(), "/accounts/login/"),
            ("order list", manager, "/orders/"),
            ("order detail", manager, f"/orders/{order.number}/"),
            ("pick queue", manager, "/floor/pick/"),
            ("pack station", manager, f"/floor/pack/{shipment.number}/"),
            ("stock lookup", manager, "/floor/stock/?q=A-01"),
            ("dashboard", manager, "/dashboard/"),
        ]
        if pick_list:
            pages.insert(4, ("pick list", manager, f"/floor/pick/{pick_list.number}/"))
        rows = []
        reference = None
        for name, client, path in pages:
            client.get(path)  # warm
            times = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                with CaptureQueriesContext(connection) as ctx:
                    status = client.get(path).status_code
                times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1000
            reference = reference or ms
            rows.append(
                row(
                    f"pages: {name}",
                    ms,
                    "ms",
                    f"{len(ctx.captured_queries)} queries, HTTP {status}, "
                    f"{ms / reference:.1f}x the login page",
                )
            )
        return rows
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB)


if __name__ == "__main__":
    print_table(run(), "Staff pages")
