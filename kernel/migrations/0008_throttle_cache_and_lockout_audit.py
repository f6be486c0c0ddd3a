"""The database cache's table (``oms_cache``): API throttle counters shared by every
web process (``manage.py createcachetable`` does the same; here a plain ``migrate`` is
enough on a new install; nothing to do when the cache is Redis). And the managers'
permissions on the login lockout records (django-axes): view them, delete one to unlock."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def sync_role_permissions(apps, schema_editor):
    from kernel.roles import sync_groups

    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0007_webhooks_sweep_schedule"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
