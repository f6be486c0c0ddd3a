"""The staff pages' access rules and small view helpers every app uses, and the 404 page
(also answered by ``kernel.security.not_found``)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import render

from kernel.roles import MANAGER, WAREHOUSE, has_role


def role_required(*roles: str, message: str = "This page is not for your role"):
    """Staff pages: anonymous visitors go to the login page, logged-in users without one
    of ``roles`` (a superuser has them all) get a 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


floor_required = role_required(WAREHOUSE, MANAGER, message="Warehouse floor pages")
manager_required = role_required(MANAGER, message="This page is for managers")


def filter_params(params: QueryDict) -> QueryDict:
    """A filter form's query string without its empty values: "any" in a select, a
    blank search box or date is no filter (and no "Select a valid choice" error)."""
    cleaned = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v.strip()]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned


def is_htmx(request) -> bool:
    """An htmx request (a scan posted in place): answer with the page's panel only.
    Without JavaScript the same form posts normally and gets a redirect."""
    return request.headers.get("HX-Request") == "true"


# In the site's layout, saying what to do. A customer who mistypes a tracking link sees
# the store's own page, without the staff navigation.

CUSTOMER_PREFIXES = ("/track/",)


def _is_customer_path(request) -> bool:
    return request.path.startswith(CUSTOMER_PREFIXES)


def not_found(request, exception=None):
    template = "oms/errors/404_customer.html" if _is_customer_path(request) else "404.html"
    return render(request, template, {"path": request.path}, status=404)
