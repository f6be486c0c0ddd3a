"""The ledger checker itself: shown a stock level that disagrees with its movements (a
raw UPDATE behind the services' back), it reports that level, and
``manage.py check_stock_ledger`` fails."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from tests import factories as f
from tests.conftest import postgres_only

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked():
    wh = f.make_warehouse("LED-1", priority=1)
    product = f.make_product("LED-SKU")
    f.receive(product, wh, 10, reference="PO-1")
    f.confirm(f.place([(product, 3)]))  # reserves 3
    assert stock_ledger_mismatches() == []
    return product, wh


def corrupt(product, warehouse, *, on_hand=None, reserved=None) -> None:
    """Change a level with raw SQL: no service, no ledger row."""
    level = f.level(product, warehouse)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stocklevel SET on_hand = %s, reserved = %s WHERE id = %s",
            [
                level.on_hand if on_hand is None else on_hand,
                level.reserved if reserved is None else reserved,
                level.pk,
            ],
        )


def test_a_level_changed_behind_the_ledger_is_reported_with_both_sides(stocked):
    product, wh = stocked
    corrupt(product, wh, on_hand=12)

    assert stock_ledger_mismatches() == [
        {
            "sku": "LED-SKU",
            "warehouse": "LED-1",
            "on_hand": 12,
            "reserved": 3,
            "ledger_on_hand": 10,
            "ledger_reserved": 3,
        }
    ]


def test_a_reservation_changed_behind_the_ledger_is_reported(stocked):
    product, wh = stocked
    corrupt(product, wh, reserved=1)

    [mismatch] = stock_ledger_mismatches()
    assert (mismatch["reserved"], mismatch["ledger_reserved"]) == (1, 3)


def test_a_level_row_deleted_under_its_movements_is_reported(stocked):
    product, wh = stocked
    StockLevel.objects.filter(product=product, warehouse=wh).delete()

    [mismatch] = stock_ledger_mismatches()
    assert (mismatch["ledger_on_hand"], mismatch["ledger_reserved"]) == (10, 3)


def test_a_level_without_movements_is_reported(stocked):
    product, wh = stocked
    StockMovement.objects.filter(product=product, warehouse=wh).delete()

    [mismatch] = stock_ledger_mismatches()
    assert (mismatch["on_hand"], mismatch["ledger_on_hand"]) == (10, 0)


def test_the_command_names_the_level_and_fails(stocked):
    product, wh = stocked
    corrupt(product, wh, on_hand=12)
    out = StringIO()

    with pytest.raises(CommandError, match="1 stock level"):
        call_command("check_stock_ledger", stdout=out)
    assert "MISMATCH LED-SKU@LED-1: on_hand 12 (ledger 10), reserved 3 (ledger 3)" in out.getvalue()


@postgres_only  # the command runs in its own process, which needs a database it can reach
@pytest.mark.django_db(transaction=True)  # and sees only what was committed
def test_the_command_exits_nonzero_on_a_mismatch_and_zero_once_repaired(stocked):
    product, wh = stocked
    env_db = connection.settings_dict

    def run():
        env = dict(os.environ)
        env["DATABASE_URL"] = (
            f"postgresql://{env_db['USER']}:{env_db['PASSWORD'] or ''}@{env_db['HOST']}:"
            f"{env_db['PORT'] or 5432}/{env_db['NAME']}"
        )
        return subprocess.run(
            [sys.executable, "manage.py", "check_stock_ledger"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    corrupt(product, wh, on_hand=12)
    failed = run()
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert "MISMATCH LED-SKU@LED-1" in failed.stdout

    corrupt(product, wh, on_hand=10)
    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Stock ledger clean" in clean.stdout
