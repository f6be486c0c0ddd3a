"""Turn a lost or unavailable database into a clean 503 instead of a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A dropped connection, a terminated backend or a database that refuses connections
    fails the request cleanly with 503 and Retry-After. The outcome is unknown to the
    client (the connection may have dropped just after a commit), and retrying is safe:
    order placement is idempotent by channel + external id, other POSTs by
    Idempotency-Key. A deadlock or serialization failure that outlived its retries is
    reported the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "detail": "The database is unavailable; nothing was changed. Retry shortly.",
                    "code": "service_unavailable",
                },
                status=503,
            )
        else:
            response = HttpResponse(
                "The database is unavailable; please retry shortly.",
                status=503,
                content_type="text/plain",
            )
        response["Retry-After"] = "1"
        return response
