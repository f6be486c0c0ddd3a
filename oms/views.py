"""The project's own pages: the home page, the start page, the 403 and 500 pages."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader

from kernel.roles import MANAGER, WAREHOUSE, has_role, is_manager


@login_required
def home(request):
    return render(
        request,
        "oms/home.html",
        {
            "is_manager": is_manager(request.user),
            "is_floor": has_role(request.user, WAREHOUSE, MANAGER),
        },
    )


@login_required
def start(request):
    """Where a login lands: managers on the dashboard, everyone else at home."""
    return redirect("dashboard" if is_manager(request.user) else "home")


# --------------------------------------------------------------------------- error pages
def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


def server_error(request):
    """Rendered without the request's context (the error may come from it): the layout
    only, no navigation."""
    body = loader.get_template("500.html").render({"store_name": settings.OMS_COMPANY_NAME})
    return HttpResponseServerError(body)
