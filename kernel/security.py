"""HTTP-level protections shared by the pages, the admin and the API.

- :func:`client_ip`: the client's address as the trusted proxy saw it (``NUM_PROXIES``,
  DRF's semantics), used by the API throttles and the login lockout alike;
- :class:`SecurityHeadersMiddleware`: ``Permissions-Policy`` on every response, and
  ``Cache-Control: no-store`` on every page served to a signed-in user (order lists and
  details, the review queue, the dashboard, returns: customer data must not stay in a
  shared or back-button cache);
- :class:`BodyTooLargeMiddleware`: a request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
  sent to the API or an intake endpoint gets a 413 with a JSON body (Django alone
  answers an HTML 400);
- :class:`ApiDocsPermission` and :func:`docs_view`: the OpenAPI schema and the
  Swagger UI need a login unless ``OMS_API_DOCS_PUBLIC`` (default: on with ``DEBUG``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from rest_framework import permissions

PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)


def num_proxies() -> int:
    """How many proxies in front of the app append to X-Forwarded-For (0: none)."""
    return int(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0)


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR`` when no proxy is trusted
    (``NUM_PROXIES=0``), else the address the outermost trusted proxy saw, which is the
    ``NUM_PROXIES``-th entry from the right of ``X-Forwarded-For`` (anything left of it
    was written by the client and is ignored). DRF's throttles read it the same way."""
    meta = getattr(request, "META", None)
    if meta is None:  # a DRF Request
        meta = request._request.META
    remote = meta.get("REMOTE_ADDR", "")
    count = num_proxies()
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if count <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",")]
    return addresses[-min(count, len(addresses))] or remote


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and "no-store" not in response.get("Cache-Control", "")
        ):
            add_never_cache_headers(response)
        return response


def too_large_response(request) -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {
            "detail": f"The request body is too large (at most {limit} bytes).",
            "code": "request_too_large",
        },
        status=413,
    )


class BodyTooLargeMiddleware:
    """413 JSON for an API or intake body over the limit: refused from its
    Content-Length before anything reads it, or when reading it hits Django's limit
    (``RequestDataTooBig``, raised while the view parses it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _is_api(request.path) and request.method not in ("GET", "HEAD"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return too_large_response(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig) and _is_api(request.path):
            return too_large_response(request)
        return None


def not_found(request, exception=None):
    """handler404: a JSON 404 for an API URL that matches no route (a key with
    characters the route does not take, say), the usual page elsewhere."""
    if _is_api(request.path):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    from kernel.views import not_found as page_not_found

    return page_not_found(request, exception)


def docs_public() -> bool:
    return bool(getattr(settings, "OMS_API_DOCS_PUBLIC", settings.DEBUG))


class ApiDocsPermission(permissions.BasePermission):
    """The schema: anyone signed in (session or token), everyone when docs are public."""

    def has_permission(self, request, view) -> bool:
        return docs_public() or bool(request.user and request.user.is_authenticated)


def docs_view(view):
    """The Swagger UI page: anonymous visitors go to the login page unless docs are
    public (the page then fetches the schema with the same session)."""

    def wrapper(request, *args, **kwargs):
        if not docs_public() and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): 429 with a page
    that says why and for how long; JSON from the API (token login)."""
    from axes.helpers import get_client_username, get_cool_off
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    username = get_client_username(request, credentials) or ""
    limit = settings.AXES_FAILURE_LIMIT
    if _is_api(request.path):
        return JsonResponse(
            {
                "detail": f"Too many failed logins for this username from this address; "
                f"try again in {minutes} minutes.",
                "code": "locked_out",
            },
            status=429,
            headers={"Retry-After": str(minutes * 60)},
        )
    response = render(
        request,
        "registration/locked_out.html",
        {"failure_limit": limit, "username": username, "cooloff_minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
