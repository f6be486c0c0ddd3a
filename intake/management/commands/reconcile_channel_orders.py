"""``manage.py reconcile_channel_orders <code> [--since ISO-8601]``: ask the channel for
the orders updated since then (default: its cursor) and pass them through intake."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from intake.management.commands._channel import channel_by_code
from intake.sync.http import ChannelError
from intake.sync.reconcile import channel_orders_reconcile


def parse_since(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r} is not a date or an ISO 8601 time")
        moment = timezone.datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Poll a channel for orders updated since its cursor and take in the missing ones."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--since", help="ISO 8601 time or date (default: the cursor)")

    def handle(self, *args, code, since=None, **options):
        channel = channel_by_code(code)
        try:
            report = channel_orders_reconcile(
                channel=channel, since=parse_since(since) if since else None
            )
        except ChannelError as exc:
            raise CommandError(exc.message) from exc
        found = report["only_by_poll"]
        self.stdout.write(
            f"{channel.code}: {report['fetched']} orders since {report['since']}, "
            f"{len(found)} new, {report['updated']} updated, {report['unchanged']} unchanged"
        )
        if found:
            self.stdout.write(
                "only the poll found: "
                + ", ".join(f"{o['external_id']} ({o['order']})" for o in found)
            )
        for problem in report["needs_attention"]:
            self.stdout.write(f"needs attention: {problem}")
