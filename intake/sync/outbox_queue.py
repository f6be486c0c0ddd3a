"""Queueing a written ``ChannelOutbox`` row for delivery after commit.

Its own module, below both ``outbound`` (which writes the rows) and ``wiring`` (which
connects ``outbound``'s listeners), so neither of those imports the other back.
"""

from functools import partial

from django.db import transaction


def queue_outbox(outbox_id: int) -> None:
    from django_q.tasks import async_task

    async_task("intake.tasks.deliver_channel_outbox", outbox_id, group="channel-sync")


def after_commit_deliver(outbox_id: int) -> None:
    transaction.on_commit(partial(queue_outbox, outbox_id), robust=True)
