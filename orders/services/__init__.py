"""Order writes: placement, the status state machine, payments, the timeline.

Locking: every function that changes an existing order first locks its row
(``SELECT ... FOR UPDATE``); code that also touches stock locks the order before any
stock level, so concurrent actions on one order queue and never deadlock.
Cross-app workflows (confirm + allocate, cancel + release) live in
``fulfillment.services``, which calls these functions.

Split by action: ``timeline`` (events, the order lock, the status move), ``placement``,
``transitions`` (the state machine), ``payments``; import from here.
"""

from kernel.money import MAX_MONEY  # noqa: F401
from orders.services.payments import (  # noqa: F401
    FS,
    PaymentKind,
    financial_status_for,
    order_add_note,
    order_mark_paid,
    order_record_refund,
    order_set_financial_status,
    payment_record,
    payment_totals,
    refundable_amount,
)
from orders.services.placement import customer_upsert, intake_fingerprint, order_place  # noqa: F401
from orders.services.timeline import (  # noqa: F401
    ADDRESS_FIELDS,
    COUNTRY_RE,
    CURRENCY_RE,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    EventKind,
    Status,
    add_business_days,
    order_add_event,
    order_add_events,
    order_lock,
)
from orders.services.transitions import (  # noqa: F401
    order_cancel,
    order_confirm,
    order_hold,
    order_mark_delivered,
    order_release,
    order_sync_progress,
)
