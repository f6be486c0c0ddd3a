"""inventory.replenishment: reorder point, order quantity and date, page, API, alerts."""

import csv
import io
import math
from datetime import date, timedelta
from statistics import NormalDist

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inventory.forecasting import Fit
from inventory.models import DemandForecast, LowStockAlert, StockLevel
from inventory.replenishment import check_low_stock, reorder_plan, suggestions
from tests import factories as f

TODAY = date(2026, 12, 1)  # a Tuesday
Z95 = NormalDist().inv_cdf(0.95)  # 1.6449


# --------------------------------------------------------------------------- by hand


def test_reorder_point_and_quantity_match_the_hand_computation():
    # 10/day, sigma 4/day, lead time 9 days, 95 %: D_L = 90, SS = 1.6449 * 4 * 3 = 19.74
    # ROP = ceil(109.74) = 110; 60 available < 110: order today 110 + 14 * 10 - 60 = 190
    plan = reorder_plan(
        fit=Fit("ses", 10.0),
        sigma=4.0,
        lead_time_days=9,
        position=60,
        today=TODAY,
        service=0.95,
        review=14,
    )
    assert plan.demand_over_lead_time == pytest.approx(90.0)
    assert plan.safety_stock == pytest.approx(19.74, abs=0.01)
    assert plan.reorder_point == 110
    assert plan.order_by == TODAY
    assert plan.order_quantity == 190


def test_order_date_is_when_the_projected_stock_falls_below_the_reorder_point():
    # 200 available, 10/day: 200 - 10k < 110 first for k = 10 -> order on day 10, when
    # 100 are left: 110 + 140 - 100 = 150
    plan = reorder_plan(
        fit=Fit("ses", 10.0), sigma=4.0, lead_time_days=9, position=200, today=TODAY,
        service=0.95, review=14,
    )  # fmt: skip
    assert plan.order_by == TODAY + timedelta(days=10)
    assert plan.order_quantity == 150


def test_weekday_forecast_and_a_99_percent_service_level_by_hand():
    # Mon..Sun factors, level 7: 14, 7, 7, 7, 7, 7, 0 units; lead time 7 from a Tuesday
    # covers Tue..Mon = 49 units; SS = 2.3263 * 2 * sqrt(7) = 12.31 -> ROP ceil(61.31) = 62
    fit = Fit("ses_weekday", 7.0, (2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0))
    plan = reorder_plan(
        fit=fit, sigma=2.0, lead_time_days=7, position=0, today=TODAY, service=0.99, review=7
    )
    z = NormalDist().inv_cdf(0.99)
    assert plan.reorder_point == math.ceil(49 + z * 2 * math.sqrt(7)) == 62
    assert plan.order_quantity == 62 + 49


def test_no_demand_means_no_order_unless_a_manual_minimum_says_so():
    none = reorder_plan(fit=Fit("none", 0.0), sigma=0, lead_time_days=7, position=5, today=TODAY)
    assert (none.reorder_point, none.order_by, none.order_quantity) == (0, None, 0)
    manual = reorder_plan(
        fit=Fit("none", 0.0), sigma=0, lead_time_days=7, position=5, today=TODAY,
        min_reorder_point=8,
    )  # fmt: skip
    assert (manual.reorder_point, manual.order_by, manual.order_quantity) == (8, TODAY, 3)


# --------------------------------------------------------------------------- rows


@pytest.fixture
def stocked(db):
    """TEE (lead time 9) at SP with 60 available (70 on hand, 10 reserved) and a stored
    forecast of 10/day, sigma 4; MUG with no demand at SP."""
    sp = f.make_warehouse("SP", priority=1)
    tee = f.make_product("TEE", lead_time_days=9)
    mug = f.make_product("MUG", lead_time_days=5)
    f.receive(tee, sp, 70)
    f.receive(mug, sp, 3)
    f.confirm(f.place([(tee, 10)]))
    DemandForecast.objects.create(
        product=tee, warehouse=sp, method="ses", level=10.0, weekday_factors=[1.0] * 7,
        sigma=4.0, wape=0.2, computed_at=timezone.now(),
    )  # fmt: skip
    return sp, tee, mug


def test_suggestion_rows_say_how_much_to_order_and_by_when(stocked, settings):
    settings.OMS_SERVICE_LEVEL = 0.95
    settings.OMS_REPLENISHMENT_REVIEW_DAYS = 14
    sp, tee, mug = stocked
    rows = {r.sku: r for r in suggestions(today=TODAY)}
    row = rows["TEE"]
    assert (row.available, row.reorder_point, row.order_quantity) == (60, 110, 190)
    assert row.order_by == TODAY and row.status == "order_now" and row.low
    assert row.days_of_cover == 6.0
    assert row.advice == "order 190 by 1 Dec"
    assert "ROP 110 = 90.0 expected over 9 days + 19.7 safety" in row.why
    assert rows["MUG"].status == "no_demand" and rows["MUG"].days_of_cover is None


def test_backorders_count_against_the_first_point_and_unrouted_demand_gets_a_sku_row(db):
    sp = f.make_warehouse("SP", priority=1)
    rj = f.make_warehouse("RJ", priority=2)
    cap = f.make_product("CAP", lead_time_days=3)
    f.receive(cap, rj, 1)
    f.confirm(f.place([(cap, 4)]))  # 1 from RJ, 3 backordered
    StockLevel.objects.get_or_create(product=cap, warehouse=sp)
    ghost = f.make_product("GHOST", lead_time_days=3)  # sold, never stocked anywhere
    f.confirm(f.place([(ghost, 2)]))
    for product, warehouse in ((cap, rj), (cap, None), (ghost, None)):
        DemandForecast.objects.create(
            product=product, warehouse=warehouse, method="sba", level=1.0,
            weekday_factors=[1.0] * 7, sigma=1.0, computed_at=timezone.now(),
        )  # fmt: skip
    rows = {(r.sku, r.warehouse): r for r in suggestions(today=TODAY)}
    assert set(rows) == {("CAP", "SP"), ("CAP", "RJ"), ("GHOST", "")}
    assert rows[("CAP", "SP")].backordered == 3 and rows[("CAP", "RJ")].backordered == 0
    ghost_row = rows[("GHOST", "")]
    assert (ghost_row.available, ghost_row.backordered, ghost_row.status) == (0, 2, "order_now")
    # ROP = ceil(3 + 1.645 * sqrt(3)) = 6; Q = 6 + 14 - (0 - 2) = 22
    assert ghost_row.reorder_point == 6 and ghost_row.order_quantity == 22


# --------------------------------------------------------------------------- alerts


def test_low_stock_alert_opens_once_and_resolves_when_stock_is_back(stocked):
    sp, tee, mug = stocked
    first = check_low_stock(today=TODAY)
    assert [a.product_id for a in first["opened"]] == [tee.pk]
    alert = LowStockAlert.objects.get()
    assert (alert.status, alert.available, alert.reorder_point) == ("open", 60, 110)
    assert alert.suggested_quantity == 190 and "below the reorder point 110" in alert.message

    again = check_low_stock(today=TODAY)
    assert again["opened"] == [] and LowStockAlert.objects.count() == 1

    f.receive(tee, sp, 100)  # 160 available >= 110
    done = check_low_stock(today=TODAY)
    assert done["resolved"] == 1
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_at is not None


def test_manual_reorder_point_alerts_without_a_forecast(db):
    sp = f.make_warehouse("SP")
    mug = f.make_product("MUG")
    f.receive(mug, sp, 3)
    StockLevel.objects.filter(product=mug).update(reorder_point=5)
    opened = check_low_stock(today=TODAY)["opened"]
    assert [(a.product_id, a.reorder_point, a.suggested_quantity) for a in opened] == [
        (mug.pk, 5, 2)
    ]


# --------------------------------------------------------------------------- page, API


def _manager(client):
    user = User.objects.create_user("boss", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="manager"))
    client.force_login(user)
    return user


def test_page_sorts_filters_and_exports_csv(stocked, client, django_assert_max_num_queries):
    _manager(client)
    with django_assert_max_num_queries(14):  # whatever the rows: 2 of them for on-order units
        page = client.get("/replenishment/", {"sort": "-sku"})
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("<strong>TEE</strong>") < body.index("<strong>MUG</strong>")  # -sku
    assert "order 190 by" in body

    only = client.get("/replenishment/", {"status": "order_now"}).content.decode()
    assert "TEE" in only and "MUG</strong>" not in only

    export = client.get("/replenishment/export.csv", {"sort": "sku"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [r["sku"] for r in rows] == ["MUG", "TEE"]
    assert rows[1]["reorder_point"] and rows[1]["warehouse"] == "SP"


def test_page_is_for_managers_only(stocked, client):
    assert client.get("/replenishment/").status_code == 302  # to the login page
    picker = User.objects.create_user("picker", password="pw-123456")
    picker.groups.add(Group.objects.get(name="warehouse"))
    client.force_login(picker)
    assert client.get("/replenishment/").status_code == 403


def test_api_lists_suggestions_with_filters(stocked, client, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(_manager(client))
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/replenishment/", {"low": "true"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["sku"], r["warehouse"], r["low"]) for r in results] == [("TEE", "SP", True)]
    assert results[0]["reorder_point"] >= 110 and results[0]["advice"].startswith("order ")
    assert api.get("/api/v1/replenishment/", {"status": "nope"}).status_code == 400
    assert api.get("/api/v1/replenishment/", {"sku": "MUG"}).json()["count"] == 1
