from kernel.exceptions import Conflict, DomainError, InvalidTransition  # noqa: F401


class DuplicateOrder(Conflict):
    """Same (channel, external_id) placed again with different content."""

    code = "duplicate_order"


class OrderInvalid(DomainError):
    code = "invalid_order"
