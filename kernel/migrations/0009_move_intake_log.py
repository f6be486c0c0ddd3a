"""The channel intake log moves to the intake app (``intake`` 0005): state only, the
tables keep their names and nothing in the database changes."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('oms', '0008_throttle_cache_and_lockout_audit'),
        ('intake', '0006_move_intake_log'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='intakesecretrotation',
                    name='channel',
                ),
                migrations.DeleteModel(
                    name='IntakeDelivery',
                ),
                migrations.DeleteModel(
                    name='IntakeSecretRotation',
                ),
            ],
        ),
    ]
