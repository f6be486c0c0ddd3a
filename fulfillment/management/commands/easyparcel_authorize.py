"""Link an EasyParcel carrier to its EasyParcel account: exchange the authorization code
from the browser flow (``{base}/oauth/login?client_id=...&redirect_uri=...`` redirects
to ``redirect_uri?code=...``) for the access and refresh tokens, kept in CarrierToken and
refreshed from then on by the adapter."""

from django.core.management.base import BaseCommand, CommandError

from fulfillment.carriers.base import CarrierError
from fulfillment.carriers.easyparcel import EasyParcelCarrier
from fulfillment.models import Carrier


class Command(BaseCommand):
    help = "Exchange an EasyParcel OAuth authorization code for the carrier's tokens."

    def add_arguments(self, parser):
        parser.add_argument("carrier", help="The carrier's code")
        parser.add_argument("--code", required=True, help="The code from the redirect")
        parser.add_argument("--redirect-uri", required=True, help="The app's redirect URI")

    def handle(self, *args, carrier, code, redirect_uri, **options):
        row = Carrier.objects.filter(code=carrier, kind=Carrier.Kind.EASYPARCEL).first()
        if row is None:
            raise CommandError(f"No EasyParcel carrier {carrier!r}")
        try:
            EasyParcelCarrier(row).authorize(code=code, redirect_uri=redirect_uri)
        except CarrierError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"{carrier} is authorized with EasyParcel."))
