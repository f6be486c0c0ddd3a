"""A manager whose browser asks for Brazilian Portuguese (Accept-Language from the
browser's own locale, not a header set by the test) reads the order page, the pick queue
and the packing slip PDF in Portuguese, with money as R$ 302,70; a browser in English
still gets English."""

import base64
import shutil
import subprocess
from decimal import Decimal

import pytest

from tests import factories as f
from tests.e2e.conftest import DESKTOP
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

NBSP = "\u00a0"

FETCH_PDF = """async (url) => {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return {type: response.headers.get("content-type"), body: btoa(text)};
}"""


@pytest.fixture
def shop(live_server):
    """A manager, and a confirmed BRL order of 3 × 100,90 = 302,70 waiting at SP-01."""
    make_user("maria", "manager", password=True, is_staff=True)
    warehouse = f.make_warehouse("SP-01", name="São Paulo")
    product = f.make_product("MUG-BR", name="Caneca", price=Decimal("100.90"))
    f.receive(product, warehouse, 10)
    order = f.confirm(f.place([(product, 3, Decimal("100.90"))], currency="BRL"))
    assert order.total == Decimal("302.70")
    return live_server.url, order


def login(browser, base: str, locale: str):
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "maria-pw-2026")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return context, page


def pdf_text(page, url: str, tmp_path) -> str:
    """The PDF as the page's own fetch() gets it (the browser's Accept-Language)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDFs")
    answer = page.evaluate(FETCH_PDF, url)
    assert answer["type"] == "application/pdf"
    path = tmp_path / "slip.pdf"
    path.write_bytes(base64.b64decode(answer["body"]))
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_portuguese_browser_reads_order_pick_queue_and_slip_in_portuguese(
    browser, shop, shots, tmp_path
):
    base, order = shop
    shipment = order.shipments.get()
    context, page = login(browser, base, "pt-BR")
    assert page.locator("html").get_attribute("lang") == "pt-br"

    page.goto(f"{base}/orders/{order.number}/")
    body = page.locator("main").inner_text()
    assert f"R${NBSP}302,70" in body  # the total, and the subtotal of 3 × R$ 100,90
    assert f"R${NBSP}100,90" in body
    for words in ("Frete", "Impostos", "Remessas", "Entregar a", "Histórico"):
        assert words in body or words.upper() in body, words
    assert order.placed_at.strftime("%d/%m/%Y") in body  # one date format: dd/mm/yyyy
    assert page.locator("nav.floor a", has_text="Pedidos").is_visible()
    shots(page, "order-page-pt")

    page.goto(f"{base}/floor/pick/")
    assert page.locator("h1").inner_text() == "Fila de separação · SP-01"
    queue = page.locator("main").inner_text()
    assert "Prontas para separar: 1 remessa" in queue
    assert "Enviar até" in queue and "Criar onda com as remessas marcadas" in queue
    assert "Pick queue" not in queue and "Ready to pick" not in queue
    shots(page, "pick-queue-pt")
    # A wave from the scan box: the answer is in Portuguese too.
    page.locator("#scan").fill(order.number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    flash = page.locator("#flash").inner_text()
    assert "Onda PL-" in flash and "1 remessa(s), 3 unidade(s)" in flash
    assert "Leia o código de barras ou o SKU do produto" in page.locator("main").inner_text()
    shots(page, "pick-list-pt")

    text = pdf_text(page, f"/fulfillment/shipments/{shipment.number}/packing-slip.pdf", tmp_path)
    assert "Romaneio" in text and "ENTREGAR A" in text.upper()
    assert "Devoluções." in text and "Packing slip" not in text
    assert order.placed_at.strftime("%d/%m/%Y") in text
    context.close()


def test_an_english_browser_keeps_english(browser, shop):
    base, order = shop
    context, page = login(browser, base, "en-US")
    page.goto(f"{base}/orders/{order.number}/")
    body = page.locator("main").inner_text()
    assert f"R${NBSP}302.70" in body and "Shipping" in body and "Frete" not in body
    page.goto(f"{base}/floor/pick/")
    assert page.locator("h1").inner_text() == "Pick queue · SP-01"
    context.close()
