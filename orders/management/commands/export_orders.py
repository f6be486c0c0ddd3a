from kernel.csv_commands import ExportCommand
from orders.exports import ORDER_EXPORT_COLUMNS, order_csv_rows
from orders.models import OrderLine


class Command(ExportCommand):
    help = (
        "Export orders as CSV, one row per line: the columns import_orders reads plus "
        "number, status, allocation_status, fulfillment_status and financial_status."
    )
    kind = "orders"
    header = ORDER_EXPORT_COLUMNS

    def rows(self):
        return order_csv_rows()

    def count(self):
        return OrderLine.objects.count()
