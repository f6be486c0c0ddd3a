from inventory.exports import product_csv_rows
from inventory.imports import PRODUCT_COLUMNS
from inventory.models import Product
from kernel.csv_commands import ExportCommand


class Command(ExportCommand):
    help = "Export every product as CSV (the columns import_products reads)."
    kind = "products"
    header = PRODUCT_COLUMNS

    def rows(self):
        return product_csv_rows()

    def count(self):
        return Product.objects.count()
