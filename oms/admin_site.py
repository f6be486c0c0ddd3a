from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied

from kernel.roles import may_use_admin


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, letting in whoever ``kernel.roles.may_use_admin`` lets in
    (a member of the ``manager`` group without ``is_staff`` too)."""

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)
        if not may_use_admin(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class OmsAdminSite(admin.AdminSite):
    """Django's admin for managers (the ``manager`` group is the one source of truth:
    ``is_staff`` is not needed). A signed-in user who may not use it (warehouse floor
    staff, integration accounts) gets 403 instead of being sent to the admin's login
    page: being logged in as someone else will not help them."""

    site_header = "OMS administration"
    site_title = "OMS admin"
    index_title = "Master data, orders, fulfillment and returns"
    login_form = AdminLoginForm

    def has_permission(self, request):
        return may_use_admin(request.user)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The admin is for managers.")
            return inner(request, *args, **kwargs)

        return guarded
