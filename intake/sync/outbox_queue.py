"""Writing a ``ChannelOutbox`` row and queueing it for delivery after commit.

Its own module, below ``outbound`` and ``order_edits`` (which write the rows) and
``wiring`` (which connects their listeners), so none of those imports another back.
"""

from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.models import ChannelOutbox
from orders.models import Order

Status = ChannelOutbox.Status


def queue_outbox(outbox_id: int) -> None:
    from django_q.tasks import async_task

    async_task("intake.tasks.deliver_channel_outbox", outbox_id, group="channel-sync")


def after_commit_deliver(outbox_id: int) -> None:
    transaction.on_commit(partial(queue_outbox, outbox_id), robust=True)


def write_outbox(
    order: Order,
    kind: str,
    reference: str,
    payload: dict,
    *,
    status: str = Status.PENDING,
    note: str = "",
) -> None:
    """One row per (channel, kind, reference); a pending row is sent after commit, a
    ``skipped`` one only records what was not sent (``note``)."""
    outbox = ChannelOutbox(
        channel_id=order.channel_id,
        order=order,
        kind=kind,
        reference=reference[:64],
        payload=payload,
        status=status,
        note=note,
        next_attempt_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            outbox.save(force_insert=True)
    except IntegrityError:
        return  # already queued (the same event twice)
    if status == Status.PENDING:
        after_commit_deliver(outbox.pk)
