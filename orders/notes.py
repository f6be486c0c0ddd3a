"""Internal notes: comments staff write on an order, with their author and time.

A note is an order event of kind ``note`` (actor and ``created_at`` are the author and
the time), never public: the customer's tracking page shows public events only and the
customer e-mails show no events at all. Kind ``note`` is shared with what the system
writes on the timeline (e-mails sent, short picks, rate shopping, carrier exceptions,
channel updates), so a staff comment carries ``data["internal"] = True``: that is how the
order page, the customer page and the API find the comments among the system's notes.
"""

from django.db import transaction
from django.db.models import QuerySet

from orders.exceptions import OrderInvalid
from orders.models import Customer, Order, OrderEvent
from orders.services import order_add_event

NOTE_MAX_LENGTH = 2000
INTERNAL = "internal"


def is_internal_note(event: OrderEvent) -> bool:
    data = event.data if isinstance(event.data, dict) else {}
    return event.kind == OrderEvent.Kind.NOTE and not event.public and data.get(INTERNAL) is True


@transaction.atomic
def order_note_add(*, order: Order, message: str, actor=None) -> OrderEvent:
    """Add an internal note to ``order``: stripped text, 1 to ``NOTE_MAX_LENGTH``
    characters, ``OrderInvalid`` (field ``message``) otherwise. Takes no lock: a note
    changes no state or quantity, and two notes at once are simply two rows."""
    message = (message or "").strip()
    if not message:
        raise OrderInvalid("A note needs text", field="message")
    if len(message) > NOTE_MAX_LENGTH:
        raise OrderInvalid(
            f"A note is at most {NOTE_MAX_LENGTH} characters (this one has {len(message)})",
            field="message",
        )
    return order_add_event(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        message=message,
        actor=actor,
        public=False,
        data={INTERNAL: True},
    )


def internal_notes() -> QuerySet[OrderEvent]:
    """Every internal note, newest first, with its order (for a link to it)."""
    return (
        OrderEvent.objects.filter(kind=OrderEvent.Kind.NOTE, public=False, data__internal=True)
        .select_related("order")
        .order_by("-created_at", "-pk")
    )


def order_notes(*, order: Order) -> QuerySet[OrderEvent]:
    return internal_notes().filter(order=order)


def customer_notes(*, email: str) -> QuerySet[OrderEvent]:
    """The internal notes on every order of the customer with this e-mail."""
    return internal_notes().filter(order__customer__email__iexact=email)


def customer_exists(*, email: str) -> bool:
    """A customer with this e-mail (compared without case, as placement finds them)."""
    return Customer.objects.filter(email__iexact=email).exists()
