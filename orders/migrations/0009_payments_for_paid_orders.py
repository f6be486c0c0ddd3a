"""Orders paid before payments were recorded get the captured payment their financial
status implies (the whole total), and their refunds, so that refunds stay bounded by
what was captured; the role groups get their permissions on the new Payment model."""

from django.db import migrations

PAID = ("paid", "partially_refunded", "refunded")


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Payment = apps.get_model("orders", "Payment")
    rows = []
    for order in Order.objects.filter(financial_status__in=PAID).iterator(chunk_size=2000):
        if order.total > 0:
            rows.append(
                Payment(
                    order_id=order.pk,
                    kind="captured",
                    amount=order.total,
                    currency=order.currency,
                    method="recorded before payments were kept",
                )
            )
        if order.refunded_total > 0:
            rows.append(
                Payment(
                    order_id=order.pk,
                    kind="refunded",
                    amount=order.refunded_total,
                    currency=order.currency,
                    method="recorded before payments were kept",
                )
            )
        if len(rows) >= 2000:
            Payment.objects.bulk_create(rows)
            rows = []
    for order in Order.objects.filter(financial_status="authorized", total__gt=0).iterator():
        rows.append(
            Payment(
                order_id=order.pk,
                kind="authorized",
                amount=order.total,
                currency=order.currency,
                method="recorded before payments were kept",
            )
        )
    Payment.objects.bulk_create(rows)

    from kernel.roles import sync_groups

    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_discounts_payments_three_decimal_money"),
        ("oms", "0003_role_groups"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
