from kernel.exceptions import Conflict, DomainError, InvalidTransition  # noqa: F401


class ReturnInvalid(DomainError):
    code = "invalid_return"
