from django.apps import AppConfig


class KernelConfig(AppConfig):
    """The kernel below every app: numbering, idempotency keys, import jobs, the webhook
    outbox. Its label stays ``oms`` (where these models were born), so its tables
    (``oms_*``), its migration history and every migration's dependency on ``("oms", ...)``
    are unchanged."""

    name = "kernel"
    label = "oms"
    verbose_name = "OMS"
