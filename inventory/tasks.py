"""django-q2 jobs of the inventory app (scheduled by ``manage.py setup_schedules``)."""

import logging

from inventory import forecasting, replenishment

log = logging.getLogger(__name__)


def refresh_forecasts() -> dict:
    """Nightly: recompute the demand forecasts, then check the stock against the new
    reorder points."""
    summary = forecasting.forecast_refresh()
    low = replenishment.check_low_stock()
    result = {
        "series": summary["series"],
        "methods": summary["methods"],
        "low_stock_opened": len(low["opened"]),
        "low_stock_open": low["open"],
    }
    log.info("forecasts refreshed: %s", result)
    return result


def check_low_stock() -> dict:
    """Hourly: open and resolve low-stock alerts against the stored forecasts."""
    low = replenishment.check_low_stock()
    return {"opened": len(low["opened"]), "resolved": low["resolved"], "open": low["open"]}
