from kernel.exceptions import Conflict, DomainError


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class StockError(DomainError):
    code = "stock_error"


class CountNeedsConfirmation(Conflict):
    """A cycle count far from on_hand: confirm it with a reason code, or count again."""

    code = "count_needs_confirmation"
