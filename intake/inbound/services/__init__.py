"""Channel intake: turn a platform's order webhook into an order, an edit or a cancel.

``intake_receive`` keeps the delivery as received (``IntakeDelivery``: raw body, the
platform's headers; a repeated delivery id is counted, not processed again) and applies
it with ``channel_order_sync`` in the same transaction:

* **new order** (any topic): placed idempotently by (channel, platform order id) with
  ``order_place_and_confirm``. An order that cannot be fulfilled as sent (unknown or
  inactive SKU, a line without SKU, no or an incomplete shipping address, an amount
  that is not one) is still placed, but with ``order_place`` only (not confirmed, no
  stock reserved) and put **on hold** with the reasons. A line whose SKU we do not know
  points at the placeholder product ``OMS_INTAKE_PLACEHOLDER_SKU`` (created on first
  use, never stocked, so it can never be allocated or shipped) and keeps the platform's
  SKU and title on the line: the order, its money and its lines are complete, and
  nothing can ship until somebody looks. Re-processing the delivery (admin action) or
  the platform's next update, once the product exists, swaps the placeholder line for
  the real product and releases the hold.
* **update** before anything shipped: the address, the lines' quantities and prices,
  shipping and tax become the platform's, as one ``edited`` event. Quantity changes on
  a confirmed order first cancel its open shipments (reservations released, ledger
  ``release``), then change the lines, then route the order again: the reservations and
  the ledger stay exact. Refused (order held, delivery marked ``needs_attention``) once
  picking has started; only payment changes apply once something shipped. A delivery
  older (``updated_at``) than one already applied is ignored as stale.
* **cancellation** (Shopify ``orders/cancelled`` or ``cancelled_at``; WooCommerce status
  ``cancelled``): ``order_cancel_and_release``.
* the payment state follows the platform's along ``FINANCIAL_TRANSITIONS``; a refund
  on the platform is recorded with ``order_record_refund``.

Everything a delivery does runs in one transaction with its ``IntakeDelivery`` row;
an unexpected error rolls it all back (the endpoint answers 500 and the platform
retries), a refused business rule is recorded on the delivery (``needs_attention``).

Layering: intake sits above fulfillment (it places and routes), so the fulfillment
services are imported inside the functions, as ``fulfillment.services.intake`` does.

Split by step: ``outcomes`` (results and shared names), ``receive``, ``order_sync``
(place, update, cancel), ``edits`` (the platform's changes applied), ``webhook_secrets``;
import from here.
"""

from intake.inbound.services.order_sync import channel_order_sync, hold_reason, placeholder_product  # noqa: F401
from intake.inbound.services.outcomes import (  # noqa: F401
    ADDRESS_FIELDS,
    FS,
    HOLD_PREFIX,
    PLATFORM_NAMES,
    PLATFORMS,
    DStatus,
    EditRefused,
    IntakeResult,
    OStatus,
    Outcome,
    ResolvedLine,
    placeholder_sku,
)
from intake.inbound.services.receive import intake_receive, intake_reprocess  # noqa: F401
from intake.inbound.services.webhook_secrets import (  # noqa: F401
    channel_accepted_secrets,
    channel_rotate_webhook_secret,
    channel_set_webhook_secret,
)
