"""Serve the DEVELOPMENT FAKE of EasyParcel's open API on 127.0.0.1 (``make run`` starts
it beside the app for the demo's EasyParcel carrier). Not a courier: nothing is sent
anywhere; its parcels move along by themselves every few minutes."""

import urllib.parse

from django.conf import settings
from django.core.management.base import BaseCommand

from fulfillment.carriers.easyparcel_fake import FakeEasyParcel


class Command(BaseCommand):
    help = "Serve the development fake of EasyParcel's open API (2025-09) for the demo."

    def add_arguments(self, parser):
        url = urllib.parse.urlsplit(settings.OMS_DEMO_EASYPARCEL_URL)
        parser.add_argument("--port", type=int, default=url.port or 8765)
        parser.add_argument("--currency", default="BRL", help="The demo account's currency")
        parser.add_argument(
            "--progress-every",
            type=float,
            default=120,
            help="Seconds between a booked parcel's scans (collected ... delivered)",
        )

    def handle(self, *args, port, currency, progress_every, **options):
        fake = FakeEasyParcel(
            host="127.0.0.1",
            port=port,
            currency=currency,
            accept_any_refresh_token=True,
            progress_every=progress_every,
        )
        self.stdout.write(f"Fake EasyParcel (development only) at {fake.url}")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server.server_close()
