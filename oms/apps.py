from django.apps import AppConfig


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = "OMS"

    def ready(self):
        from oms.db import cache_long_statements

        cache_long_statements()
