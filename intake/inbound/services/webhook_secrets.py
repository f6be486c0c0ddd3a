"""The channels' webhook secrets and their rotation."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from intake.models import IntakeSecretRotation
from kernel.actors import actor_name
from orders.exceptions import OrderInvalid
from orders.models import Channel

# --------------------------------------------------------------------------- secrets


def channel_accepted_secrets(channel: Channel) -> list[str]:
    """The channel's secret and, for a while after a rotation, the one it replaced."""
    accepted = [channel.webhook_secret] if channel.webhook_secret else []
    rotation = IntakeSecretRotation.objects.filter(channel=channel).first()
    grace = timedelta(hours=int(getattr(settings, "OMS_INTAKE_SECRET_GRACE_HOURS", 24)))
    if (
        rotation is not None
        and rotation.previous_secret
        and rotation.previous_secret not in accepted
        and rotation.rotated_at > timezone.now() - grace
    ):
        accepted.append(rotation.previous_secret)
    return accepted


@transaction.atomic
def channel_set_webhook_secret(*, channel: Channel, secret: str, actor=None) -> Channel:
    """Replace the intake secret (e.g. pasted from Shopify's notification settings); the
    previous one stays accepted for ``OMS_INTAKE_SECRET_GRACE_HOURS``."""
    secret = (secret or "").strip()
    if not secret:
        raise OrderInvalid("A webhook secret cannot be empty", field="webhook_secret")
    if len(secret) > Channel._meta.get_field("webhook_secret").max_length:
        raise OrderInvalid("The webhook secret is too long", field="webhook_secret")
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    previous = locked.webhook_secret
    if previous == secret:
        return channel
    IntakeSecretRotation.objects.update_or_create(
        channel=locked,
        defaults={
            "previous_secret": previous,
            "rotated_at": timezone.now(),
            "rotated_by": actor_name(actor),
        },
    )
    Channel.objects.filter(pk=channel.pk).update(webhook_secret=secret)
    channel.webhook_secret = secret
    return channel


def channel_rotate_webhook_secret(*, channel: Channel, actor=None) -> str:
    """Generate a new intake secret and return it (shown once; it is not displayed
    again). For WooCommerce paste it as the webhook's secret."""
    secret = secrets.token_urlsafe(32)
    channel_set_webhook_secret(channel=channel, secret=secret, actor=actor)
    return secret
