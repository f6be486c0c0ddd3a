"""The Content-Security-Policy in a real browser: the main pages (login, home, order
list and detail, the floor's pick queue and pack station, the admin, the offline API
docs) load and work with no CSP violation reported by chromium, and Swagger UI still
renders the operations from the bundled assets."""

import pytest

from fulfillment.services import order_confirm_and_allocate
from tests import factories as f
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

# Reports every violation to the page's console, whatever directive it breaks.
WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
});
"""


def test_main_pages_run_under_the_csp_without_violations(browser, live_server):
    product, warehouse = f.make_product("SKU-A"), f.make_warehouse("SP-01")
    f.receive(product, warehouse, 5)
    order = order_confirm_and_allocate(order=f.place([(product, 1)], external_id="CSP-1"))
    make_user("maria", "manager", password=True)

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if "CSP violation" in m.text or "Content Security Policy" in m.text
            else None
        ),
    )

    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "maria-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/dashboard/")  # a manager lands on the dashboard
    visited = ["/accounts/login/", "/dashboard/"]
    for url in (
        "/",
        "/review/",
        "/replenishment/",
        "/channels/sync/",
        "/orders/",
        f"/orders/{order.number}/",
        "/floor/pick/",
        "/floor/pack/",
        "/floor/stock/",
        "/admin/",
        "/admin/orders/order/",
    ):
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        visited.append(url)
    # the floor page's scripts (htmx, floor.js) were allowed to run
    page.goto(live_server.url + "/floor/pack/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.htmx") == "object"

    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert "OMS API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_load_state("networkidle")
    visited.append("/api/docs/")

    context.close()
    assert problems == [], (visited, problems)
