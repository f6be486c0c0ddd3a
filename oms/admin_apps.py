from django.contrib.admin.apps import AdminConfig


class OmsAdminConfig(AdminConfig):
    """The admin app with our site (403 for signed-in non-staff users)."""

    default_site = "oms.admin_site.OmsAdminSite"
