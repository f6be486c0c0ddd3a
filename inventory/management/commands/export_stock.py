from inventory.exports import stock_csv_rows
from inventory.imports import STOCK_COLUMNS
from inventory.models import StockLevel
from kernel.csv_commands import ExportCommand


class Command(ExportCommand):
    help = "Export every stock level as CSV (the columns import_stock reads)."
    kind = "stock"
    header = STOCK_COLUMNS

    def rows(self):
        return stock_csv_rows()

    def count(self):
        return StockLevel.objects.count()
