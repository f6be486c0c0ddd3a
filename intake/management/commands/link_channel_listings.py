"""``manage.py link_channel_listings <code>``: link our SKUs to the channel's catalogue."""

from django.core.management.base import BaseCommand, CommandError

from intake.management.commands._channel import channel_by_code
from intake.sync.http import ChannelError
from intake.sync.listings import channel_link_listings


class Command(BaseCommand):
    help = "Read the channel's catalogue and link each of our SKUs to the platform's ids."

    def add_arguments(self, parser):
        parser.add_argument("code")

    def handle(self, *args, code, **options):
        channel = channel_by_code(code)
        try:
            report = channel_link_listings(channel=channel)
        except ChannelError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{channel.code}: {report.linked} SKUs linked ({report.calls} calls)")
        if report.only_on_platform:
            self.stdout.write(
                f"only on the platform ({len(report.only_on_platform)}): "
                + ", ".join(report.only_on_platform)
            )
        if report.only_here:
            self.stdout.write(
                f"only here ({len(report.only_here)}): " + ", ".join(report.only_here)
            )
        if report.duplicates:
            self.stdout.write("SKU on several platform items: " + ", ".join(report.duplicates))
