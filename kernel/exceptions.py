"""Domain errors shared by every app.

Services raise these; interfaces translate them: the API to 400/404/409, pages to form
errors, the admin to messages, CSV imports to row errors.
"""


class DomainError(Exception):
    """A request the business rules refuse. ``code`` is stable for integrations."""

    code = "domain_error"
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **data):
        super().__init__(message)
        self.message = message
        self.field = field
        self.data = data


class InvalidTransition(DomainError):
    """A state machine move that is not allowed from the current state (HTTP 409)."""

    code = "invalid_transition"
    status_code = 409

    def __init__(self, *, entity: str, number: str, current: str, move: str, detail: str = ""):
        message = f"{entity} {number} is {current}; cannot {move}"
        if detail:
            message += f": {detail}"
        super().__init__(message, entity=entity, current=current, move=move)
        self.current = current
        self.move = move


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class NotFound(DomainError):
    code = "not_found"
    status_code = 404
