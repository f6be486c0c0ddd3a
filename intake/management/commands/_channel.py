"""Shared by the channel sync commands: a channel by its code."""

from django.core.management.base import CommandError

from orders.models import Channel


def channel_by_code(code: str) -> Channel:
    try:
        return Channel.objects.get(code=code)
    except Channel.DoesNotExist:
        raise CommandError(f"No channel {code!r}") from None
