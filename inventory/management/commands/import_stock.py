from inventory.imports import import_stock
from kernel.csv_commands import ImportCommand


class Command(ImportCommand):
    help = (
        "Import stock from a CSV file (see DESIGN.md, CSV contracts). The whole file is "
        "validated first; a bad row rejects it, nothing is written."
    )
    kind = "stock"

    def run_import(self, data, **kwargs):
        return import_stock(data, **kwargs)
