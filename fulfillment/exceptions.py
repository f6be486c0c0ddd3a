from kernel.exceptions import Conflict, DomainError, InvalidTransition  # noqa: F401


class FulfillmentError(DomainError):
    code = "fulfillment_error"


class RoutingError(Conflict):
    code = "routing_error"
