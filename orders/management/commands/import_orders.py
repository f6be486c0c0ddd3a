from kernel.csv_commands import ImportCommand
from orders.imports import import_orders


class Command(ImportCommand):
    help = (
        "Import orders from a CSV file, one row per line (see DESIGN.md, CSV contracts). "
        "Orders already placed are skipped; a bad row rejects the file, nothing is written."
    )
    kind = "orders"

    def run_import(self, data, **kwargs):
        return import_orders(data, **kwargs)
