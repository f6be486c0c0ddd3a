from django.db import migrations


def create_groups(apps, schema_editor):
    from kernel.roles import sync_groups

    sync_groups(apps)


def remove_groups(apps, schema_editor):
    from kernel.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0002_number_sequences"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("inventory", "0001_initial"),
        ("orders", "0001_initial"),
        ("fulfillment", "0001_initial"),
        ("returns", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
