"""``manage.py sync_channel_stock <code> [--all]``: push the channel's pending stock
now (``--all``: every listed SKU) and print what was sent."""

from django.core.management.base import BaseCommand, CommandError

from intake.management.commands._channel import channel_by_code
from intake.sync.stock import channel_stock_push


class Command(BaseCommand):
    help = "Push available-to-sell quantities to a channel now and print what was sent."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument(
            "--all", action="store_true", help="every listed SKU, not only changed ones"
        )

    def handle(self, *args, code, **options):
        channel = channel_by_code(code)
        if not channel.connected:
            raise CommandError(f"Channel {code} is not connected to a platform")
        report = channel_stock_push(channel=channel, full=options["all"])
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            f"{channel.code}: {len(report.sent)} sent, {len(report.failed)} failed, "
            f"{report.calls} calls" + (f"; {report.error}" if report.error else "")
        )
        if report.failed:
            raise CommandError(f"{len(report.failed)} SKUs were not accepted (kept to retry)")
