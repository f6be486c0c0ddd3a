"""The body and the signature a receiver checks."""

import hashlib
import hmac
import json
import uuid

from kernel.models import WebhookEvent

# --------------------------------------------------------------------------- signing


def event_body(event: WebhookEvent) -> bytes:
    """The exact bytes POSTed for ``event`` (the same on every attempt)."""
    body = {
        "id": str(event.uuid),
        "type": event.event_type,
        "timestamp": event.created_at.isoformat(),
        "sequence": event.pk,
        "data": event.payload,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, the ``X-OMS-Signature`` value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks (constant-time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header.strip())


def delivery_key(event: WebhookEvent, subscription_id: int | None) -> str:
    """``X-OMS-Delivery``: one id per (event, subscription), the same on every attempt."""
    return str(uuid.uuid5(event.uuid, str(subscription_id)))
