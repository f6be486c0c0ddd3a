from inventory.imports import import_products
from kernel.csv_commands import ImportCommand


class Command(ImportCommand):
    help = (
        "Import products from a CSV file (see DESIGN.md, CSV contracts). The whole file is "
        "validated first; a bad row rejects it, nothing is written."
    )
    kind = "products"

    def run_import(self, data, **kwargs):
        return import_products(data, **kwargs)
