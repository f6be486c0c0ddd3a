from django.db import migrations


def grant(apps, schema_editor):
    from kernel.roles import sync_groups

    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0003_exchange_replacements_and_policy"),
        ("oms", "0003_role_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
