"""Reads for the sync page."""

from django.db.models import Count, Q

from intake.models import ChannelOutbox, ChannelStockPending, ChannelSyncState
from orders.models import Channel, Platform


def sync_overview(*, failures_per_channel: int = 20) -> list[dict]:
    """Per connected channel: its sync state, SKUs waiting, failures with the platform's
    message (stock and outbox)."""
    channels = list(
        Channel.objects.exclude(platform=Platform.NONE)
        .annotate(
            waiting=Count("stock_pending", distinct=True),
            failing=Count("stock_pending", filter=~Q(stock_pending__last_error=""), distinct=True),
            listed=Count("listings", distinct=True),
        )
        .order_by("code")
    )
    states = {s.channel_id: s for s in ChannelSyncState.objects.filter(channel__in=channels)}
    rows = []
    for channel in channels:
        rows.append(
            {
                "channel": channel,
                "state": states.get(channel.pk),
                "stock_failures": list(
                    ChannelStockPending.objects.filter(channel=channel)
                    .exclude(last_error="")
                    .select_related("product")
                    .order_by("-attempts", "product__sku")[:failures_per_channel]
                ),
                "outbox_failures": list(
                    ChannelOutbox.objects.filter(channel=channel)
                    .exclude(last_error="")
                    .exclude(status=ChannelOutbox.Status.SENT)
                    .select_related("order")
                    .order_by("-created_at")[:failures_per_channel]
                ),
                "outbox_pending": ChannelOutbox.objects.filter(
                    channel=channel, status=ChannelOutbox.Status.PENDING
                ).count(),
            }
        )
    return rows
