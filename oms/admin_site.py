from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied


class OmsAdminSite(admin.AdminSite):
    """Django's admin, but a signed-in user who is not staff (warehouse floor staff,
    integration accounts) gets 403 instead of being sent to the admin's login page:
    being logged in as someone else will not help them."""

    site_header = "OMS administration"
    site_title = "OMS admin"
    index_title = "Orders, stock, fulfillment and returns"

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The admin is for managers.")
            return inner(request, *args, **kwargs)

        return guarded
