"""The database cache's table (``oms_cache``): API throttle counters shared by every
web process. ``manage.py createcachetable`` does the same; running it here means a
plain ``migrate`` is enough on a new install. Nothing to do when the cache is Redis."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("oms", "0007_webhooks_sweep_schedule")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
