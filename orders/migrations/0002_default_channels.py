from django.db import migrations

CHANNELS = [
    ("api", "API", "api"),
    ("web", "Web store", "web_store"),
    ("csv", "CSV import", "csv"),
]


def create_channels(apps, schema_editor):
    Channel = apps.get_model("orders", "Channel")
    for code, name, kind in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(create_channels, migrations.RunPython.noop)]
