from django.apps import AppConfig


class OmsConfig(AppConfig):
    """The project itself (settings, URLs, the dashboard): an app only for its template
    tags, static files and management commands; no models."""

    name = "oms"
    label = "oms_site"
    verbose_name = "OMS site"
