from oms.exceptions import Conflict, DomainError


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class StockError(DomainError):
    code = "stock_error"
