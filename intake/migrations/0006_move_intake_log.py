"""The channel intake log (``IntakeDelivery``, ``IntakeSecretRotation``) moves from the
oms app to intake, where the code that writes it lives: state only, the tables keep their
names (``db_table``) and nothing in the database changes. The managers get their
permissions on the models under their new app label."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def sync_role_permissions(apps, schema_editor):
    from kernel.roles import sync_groups

    sync_groups(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0005_outbox_order_edits'),
        ('oms', '0008_throttle_cache_and_lockout_audit'),
        ('orders', '0009_payments_for_paid_orders'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IntakeSecretRotation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('previous_secret', models.CharField(blank=True, default='', max_length=128)),
                        ('rotated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('rotated_by', models.CharField(default='system', max_length=150)),
                        ('channel', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='intake_secret_rotation', to='orders.channel')),
                    ],
                    options={
                        'db_table': 'oms_intakesecretrotation',
                    },
                ),
                migrations.CreateModel(
                    name='IntakeDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('platform', models.CharField(choices=[('shopify', 'Shopify'), ('woocommerce', 'WooCommerce')], max_length=16)),
                        ('topic', models.CharField(blank=True, default='', max_length=64)),
                        ('delivery_id', models.CharField(blank=True, default='', max_length=128)),
                        ('external_id', models.CharField(blank=True, default='', max_length=128)),
                        ('source_updated_at', models.DateTimeField(blank=True, help_text="The order's last change on the platform", null=True)),
                        ('headers', models.JSONField(blank=True, default=dict)),
                        ('body', models.TextField(blank=True, default='')),
                        ('status', models.CharField(choices=[('processed', 'Processed'), ('needs_attention', 'Needs attention'), ('ignored', 'Ignored')], db_index=True, default='processed', max_length=16)),
                        ('message', models.TextField(blank=True, default='')),
                        ('duplicates', models.PositiveIntegerField(default=0, help_text='Repeated deliveries ignored')),
                        ('received_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('processed_at', models.DateTimeField(blank=True, null=True)),
                        ('channel', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='intake_deliveries', to='orders.channel')),
                        ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='intake_deliveries', to='orders.order')),
                    ],
                    options={
                        'verbose_name_plural': 'intake deliveries',
                        'db_table': 'oms_intakedelivery',
                        'ordering': ['-id'],
                        'indexes': [models.Index(fields=['channel', 'platform', 'external_id'], name='intakedelivery_order_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('delivery_id', ''), _negated=True), fields=('channel', 'platform', 'delivery_id'), name='intakedelivery_delivery_id_unique')],
                    },
                ),
            ],
        ),
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
