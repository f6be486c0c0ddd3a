"""Each role's main path in a real browser, on the demo shop (``seed_demo``), at a desktop
(1366 px) and a phone/handheld (390 px) width: what a person sees (text, focus, buttons
on screen), and what the database then holds. Screenshots go to
tests/artifacts/screenshots/<test>/ (kept by CI as artifacts)."""

import re
import shutil
import subprocess

import pytest

from fulfillment.models import Shipment
from inventory.models import StockLevel, StockMovement, Warehouse
from orders.models import Order
from returns.models import ReturnLine, ReturnRequest
from returns.services import return_approve, return_request
from tests import factories as f
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import wait_until

KEYS_FOR_A_CHOSEN_3_LINE_ORDER = 10  # README, "Warehouse floor"


def login(browser, base: str, user: str, viewport: dict, next_url: str = ""):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/" + (f"?next={next_url}" if next_url else ""))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"{user}-demo-2026")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return context, page


def on_screen(page, selector: str) -> bool:
    """The element is visible and wholly inside the viewport's width (not clipped off the
    right edge, not inside a box scrolled away): a person can see and press it."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    width = page.viewport_size["width"]
    return (
        element.is_visible()
        and box is not None
        and box["x"] >= 0
        and (box["x"] + box["width"] <= width + 0.5)
    )


FOCUSED = "document.activeElement && (document.activeElement.id || document.activeElement.name)"


def focused(page, expected: str | None = None) -> str:
    """The focused element's id (or name); with ``expected``, wait for it first (the
    page moves the focus back to the scan box once an in-place answer has settled)."""
    if expected is not None:
        try:
            wait_until(page, f"({FOCUSED}) === {expected!r}")
        except Exception:  # noqa: BLE001 - the assertion below reports what has it
            pass
    return page.evaluate(FOCUSED) or ""


def pdf_text(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDFs")
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# --------------------------------------------------------------------------- manager


def test_manager_dashboard_review_approve_order_page_documents(browser, demo, shots, tmp_path):
    held = (
        Order.objects.filter(status=Order.Status.ON_HOLD, shipments__isnull=True)
        .order_by("placed_at")
        .first()
    )
    assert held is not None, "the demo has orders on hold"
    context, page = login(browser, demo, "manager", DESKTOP)

    # A manager lands on the dashboard; the navigation names the manager's pages.
    assert page.url.endswith("/dashboard/")
    assert page.locator("h1").inner_text() == "Dashboard"
    for name in ("Dashboard", "Orders", "Review", "Replenishment", "Imports", "Admin"):
        assert page.locator("nav.floor a", has_text=name).first.is_visible(), name
    open_orders = Order.objects.filter(status__in=["pending", "confirmed", "on_hold"]).count()
    at_risk = Order.objects.filter(at_risk=True).count()
    assert 0 < at_risk <= open_orders // 3, f"{at_risk} of {open_orders} open orders at risk"
    shots(page, "dashboard")

    # Review queue: the Approve and Cancel buttons are on screen, not clipped.
    page.locator("nav.floor a", has_text="Review").click()
    page.wait_for_url("**/review/")
    row = page.locator("tr", has=page.locator(f"a:text-is('{held.number}')"))
    assert on_screen(page, f"tr:has(a:text-is('{held.number}')) button:text-is('Approve')")
    assert on_screen(page, f"tr:has(a:text-is('{held.number}')) button:text-is('Cancel')")
    shots(page, "review-queue")
    with page.expect_navigation():
        row.locator("button", has_text="Approve").click()
    held.refresh_from_db()
    assert held.status == Order.Status.CONFIRMED

    # The order page: line totals, the totals breakdown, shipments and their documents.
    shipped = (
        Order.objects.filter(
            status=Order.Status.SHIPPED,
            shipments__tracking_number__gt="",
            shipments__carrier="correios",
        )
        .order_by("placed_at")
        .first()
    )
    page.goto(f"{demo}/orders/{shipped.number}/")
    totals = page.locator("table.totals")
    for label in ("Subtotal", "Shipping", "Tax", "Total"):
        assert totals.locator("th", has_text=label).first.is_visible()
    assert "R$" in totals.locator("tr.grand td").inner_text()
    assert page.locator("th", has_text="Line total").is_visible()
    shipment = shipped.shipments.exclude(tracking_number="").first()
    tracking = page.locator(f"a:text-is('{shipment.tracking_number}')")
    assert tracking.get_attribute("href").startswith("https://rastreamento.correios.com.br/")
    assert page.locator("a", has_text="Tracking page").get_attribute("href") == (
        f"/track/{shipped.tracking_token}/"
    )
    shots(page, "order-page")
    label_href = page.locator("a", has_text="Label").first.get_attribute("href")
    slip_href = page.locator("a", has_text="Packing slip").first.get_attribute("href")
    label = page.request.get(demo + label_href)
    assert label.headers["content-type"] == "application/pdf"
    assert shipment.tracking_number in pdf_text(label.body(), tmp_path, "label")
    slip = page.request.get(demo + slip_href)
    assert slip.body().startswith(b"%PDF") and shipped.number in pdf_text(
        slip.body(), tmp_path, "slip"
    )

    # On a phone the order list still shows its totals, and the hold button fits.
    page.set_viewport_size(PHONE)
    page.goto(f"{demo}/orders/?status=&channel=&q=")
    assert "Select a valid choice" not in page.content()
    assert page.locator("table.list tbody tr").count() == 50
    shots(page, "order-list")
    page.goto(f"{demo}/orders/{held.number}/")
    assert on_screen(page, "form[action$='/hold/'] button")
    shots(page, "order-page")
    page.goto(f"{demo}/review/")
    assert on_screen(page, "table.review tbody tr:first-child button:text-is('Approve')")
    shots(page, "review-queue")
    page.goto(f"{demo}/orders/SO-999999/")
    assert "Page not found" in page.locator("h1").inner_text()
    assert page.locator("nav.floor a", has_text="Orders").is_visible()
    shots(page, "not-found")
    context.close()


# --------------------------------------------------------------------------- warehouse


@pytest.fixture
def chosen_order(demo):
    """A 3-line order, one unit each, of products binned and in stock at SP-01."""
    sp = Warehouse.objects.get(code="SP-01")
    levels = (
        StockLevel.objects.filter(warehouse=sp, on_hand__gte=5, product__barcode__gt="")
        .exclude(bin="")
        .select_related("product")
        .order_by("bin")
    )
    free = [lv for lv in levels if lv.on_hand - lv.reserved >= 3][:3]
    assert len(free) == 3
    order = f.confirm(f.place([(lv.product, 1) for lv in free], external_id="E2E-3LINE"))
    shipment = order.shipments.get()
    assert shipment.warehouse == sp and shipment.lines.count() == 3
    return order


def test_warehouse_picks_a_chosen_order_packs_ships_and_prints(
    browser, demo, chosen_order, shots, tmp_path
):
    shipment = chosen_order.shipments.get()
    products = [
        line.order_line.product for line in shipment.lines.select_related("order_line__product")
    ]
    context, page = login(browser, demo, "warehouse", PHONE)
    keys = 0

    def scan(text: str = "") -> None:
        nonlocal keys
        if text:
            page.keyboard.type(text)
        page.keyboard.press("Enter")
        keys += 1

    assert page.url == f"{demo}/"
    assert page.locator("h1").inner_text() == "Welcome, warehouse"
    shots(page, "home")
    scan()  # the Pick tile has the focus
    page.wait_for_url("**/floor/pick/")
    assert focused(page, "scan") == "scan"
    assert page.locator("th", has_text="Ship by").is_visible()
    shots(page, "pick-queue")
    scan(chosen_order.number)  # the chosen order, alone on a wave
    page.wait_for_url(re.compile(r".*/floor/pick/PL-\d+/$"))
    assert page.locator("ol.lines li").count() == 3
    shots(page, "pick-list")
    for i, product in enumerate(products):
        scan(product.barcode)
        wait_until(page, "n => document.querySelectorAll('ol.lines li.done').length >= n", i + 1)
        box = "scan-pick" if i < 2 else "scan"  # the done wave asks for a shipment
        assert focused(page, box) == box
    page.wait_for_selector("text=All picked")
    shots(page, "pick-done")

    # A refused code leaves every scan box empty and focused: the next scan is not
    # appended to it (a mistake: not counted).
    page.keyboard.type("SH-999999")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=No shipment, tote or order SH-999999")
    assert page.locator("#scan").input_value() == "" and focused(page, "scan") == "scan"
    shots(page, "pack-station-refused")
    scan(shipment.number)
    page.wait_for_url(f"**/floor/pack/{shipment.number}/")
    assert focused(page, "scan-pack") == "scan-pack"
    page.keyboard.type("SH-999999")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash.error")
    assert page.locator("#scan-pack").input_value() == ""
    assert focused(page, "scan-pack") == "scan-pack"
    shots(page, "pack-refused-scan")
    for product in products:
        scan(product.barcode)
    wait_until(page, "document.activeElement.name === 'weight_grams'")
    assert on_screen(page, ".ship-form button")
    shots(page, "pack-weigh")
    with context.expect_page() as popup_info:
        scan()  # Enter on the prefilled weight: rate-shop, book, ship, open the print page
    page.wait_for_selector(".done-box")
    shots(page, "pack-shipped")
    assert keys == KEYS_FOR_A_CHOSEN_3_LINE_ORDER, f"{keys} keys for a chosen 3-line order"
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED and shipment.tracking_number

    # The print page shows both PDFs in its frames (same origin only), for real.
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url.endswith(f"/floor/pack/{shipment.number}/print/")
    popup.locator("iframe").nth(1).wait_for(state="attached")
    assert popup.locator("iframe").count() == 2
    for frame_title, expected in (
        ("Shipping label", shipment.tracking_number),
        ("Packing slip", chosen_order.number),
    ):
        src = popup.locator(f"iframe[title='{frame_title}']").get_attribute("src")
        frame = next(fr for fr in popup.frames if fr.url.endswith(src))
        assert not frame.url.startswith("chrome-error"), f"{frame_title} frame blocked"
        # The frame's own document is the PDF (Chromium's viewer shows it), not an error.
        assert frame.evaluate("document.contentType") == "application/pdf", frame_title
        answer = popup.request.get(demo + src)
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
        assert expected in pdf_text(answer.body(), tmp_path, frame_title)
    shots(popup, "print")
    context.close()


# --------------------------------------------------------------------------- returns


@pytest.fixture
def damaged_return(demo):
    shipment = (
        Shipment.objects.filter(status=Shipment.Status.DELIVERED, warehouse__code="SP-01")
        .exclude(order__returns__isnull=False)
        .order_by("pk")
        .first()
    )
    line = shipment.lines.select_related("order_line").first().order_line
    rma = return_request(
        order=shipment.order,
        lines=[
            {
                "order_line": line,
                "quantity": 1,
                "reason": "damaged",
                "customer_comment": "Arrived with a crack",
            }
        ],
    )
    return return_approve(return_request=rma)


def test_receiving_a_return_declared_damaged_needs_an_inspection(
    browser, demo, damaged_return, shots
):
    rma = damaged_return
    line = rma.lines.select_related("order_line__product").get()
    level = StockLevel.objects.get(product=line.order_line.product, warehouse__code="SP-01")
    before = (level.on_hand, level.reserved)
    context, page = login(browser, demo, "warehouse", PHONE)
    page.goto(f"{demo}/floor/returns/")
    assert focused(page, "scan") == "scan"
    page.keyboard.type(rma.number)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/floor/returns/{rma.number}/")
    assert page.locator("text=Declared damaged: inspect it").is_visible()
    disposition = page.locator(f"select[name=l{line.pk}_disposition]")
    assert disposition.input_value() == ""  # inspect, then choose: no restock by default
    assert on_screen(page, "button:text-is('Confirm receipt')")
    shots(page, "return-damaged")
    page.keyboard.press("Enter")  # one Enter does not restock it
    page.wait_for_selector("text=inspect it, then choose restock or scrap")
    shots(page, "return-enter-refused")
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == before
    page.select_option(f"select[name=l{line.pk}_disposition]", "scrap")
    page.locator("button", has_text="Confirm receipt").click()
    page.wait_for_selector(f"text={rma.number} received")
    shots(page, "return-scrapped")
    rma.refresh_from_db()
    line.refresh_from_db()
    assert rma.status == ReturnRequest.Status.RECEIVED
    assert line.disposition == ReturnLine.Disposition.SCRAP
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == before
    context.close()


# --------------------------------------------------------------------------- stock count


def test_a_large_variance_count_asks_for_a_reason(browser, demo, shots):
    level = (
        StockLevel.objects.filter(warehouse__code="SP-01", reserved=0, on_hand__gte=30)
        .select_related("product")
        .order_by("pk")
        .first()
    )
    before = level.on_hand
    context, page = login(browser, demo, "warehouse", PHONE)
    page.goto(f"{demo}/floor/stock/{level.pk}/")
    assert focused(page, "scan") == "scan"
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Large difference")
    assert (
        f"counted 5, on hand {before}: {5 - before:+d}"
        in page.locator(".confirm-count").inner_text()
    )
    assert focused(page, "reason-code") == "reason-code"
    assert on_screen(page, ".confirm-count button")
    shots(page, "count-confirm")
    level.refresh_from_db()
    assert level.on_hand == before  # nothing written yet
    page.select_option("#reason-code", "lost")
    page.locator(".confirm-count button").click()
    page.wait_for_selector("text=reason: lost")
    level.refresh_from_db()
    assert level.on_hand == 5
    move = StockMovement.objects.filter(
        product=level.product, warehouse=level.warehouse, kind=StockMovement.Kind.COUNT
    ).latest("pk")
    assert (move.on_hand_delta, move.reason_code) == (5 - before, "lost")
    assert page.locator("table.adjustments td", has_text="Lost").is_visible()
    shots(page, "count-recorded")
    context.close()


# --------------------------------------------------------------------------- customer


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
def test_the_customer_tracking_page(browser, demo, shots, viewport):
    from django.conf import settings

    order = (
        Order.objects.filter(
            status=Order.Status.SHIPPED,
            shipments__carrier="correios",
            shipments__tracking_number__gt="",
        )
        .order_by("placed_at")
        .first()
    )
    shipment = order.shipments.exclude(tracking_number="").first()
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{demo}/track/{order.tracking_token}/")
    assert page.locator("header").inner_text().strip() == settings.OMS_COMPANY_NAME
    assert "Log out" not in page.content() and page.locator("nav").count() == 0
    assert page.locator("h1").inner_text() == f"Order {order.number}"
    items = page.locator("section[aria-label=Items] li").all_inner_texts()
    assert len(items) == order.lines.count()
    assert all(line.name in " ".join(items) for line in order.lines.all())
    follow = page.locator("a.btn", has_text="Follow it on Correios")
    assert on_screen(page, "a.btn")
    assert shipment.tracking_number in follow.get_attribute("href")
    steps = page.eval_on_selector_all(
        "section[aria-label=History] li", "els => els.map(e => e.lastChild.textContent.trim())"
    )
    assert len(steps) == len(set(steps)), steps  # no status twice
    shots(page, "tracking")
    page.goto(f"{demo}/track/{order.tracking_token[:-3]}xyz/")
    assert page.locator("h1").inner_text() == "We could not find that order"
    assert page.locator("header").inner_text().strip() == settings.OMS_COMPANY_NAME
    shots(page, "tracking-not-found")
    context.close()
