from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Orchestration above every domain app: the two-way channel sync (stock out,
    fulfillments, cancellations and refunds out, missed orders in)."""

    name = "intake"
    label = "intake"
    verbose_name = "Channel sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from intake.sync import wiring

        wiring.connect()
