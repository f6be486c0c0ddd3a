"""django-q2 jobs of the channel sync; each calls the services."""

from intake.sync.outbound import channel_outbox_deliver, channel_outbox_deliver_due
from intake.sync.reconcile import channel_orders_reconcile
from intake.sync.stock import channel_stock_push, pushing_channels, stock_marks_fan_out
from intake.sync.wiring import push_started
from orders.models import Channel, Platform


def push_channel_stock() -> dict:
    """Queued after committed stock changes (one queued run at a time, see
    ``intake.models.PushRequest``; each run pushes whatever is pending) and every
    minute by the schedule (retries due after a backoff)."""
    push_started()  # a change committed from now on queues the next run
    stock_marks_fan_out()
    reports = {}
    for channel in pushing_channels().order_by("pk"):
        report = channel_stock_push(channel=channel)
        if report.sent or report.failed:
            reports[channel.code] = {"sent": len(report.sent), "failed": len(report.failed)}
    return reports


def deliver_channel_outbox(outbox_id: int | None = None) -> int:
    if outbox_id is not None:
        channel_outbox_deliver(outbox_id=outbox_id)
        return 1
    return channel_outbox_deliver_due()


def channel_sync_sweep() -> dict:
    """The schedule: pending stock pushes and outbox messages whose backoff is over."""
    return {"stock": push_channel_stock(), "outbox": channel_outbox_deliver_due()}


def reconcile_channel_orders() -> dict:
    reports = {}
    channels = Channel.objects.filter(active=True).exclude(platform=Platform.NONE)
    for channel in channels.exclude(api_url="").order_by("pk"):
        report = channel_orders_reconcile(channel=channel)
        reports[channel.code] = {
            "fetched": report["fetched"],
            "only_by_poll": len(report["only_by_poll"]),
        }
    return reports
