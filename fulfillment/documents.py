"""Warehouse documents as PDF (WeasyPrint), from templates under
``templates/fulfillment/documents/``:

- ``render_label_pdf(shipment)``: the 4x6 in shipping label, the tracking number as a
  Code 128 barcode (the carrier's own label instead when one was booked);
- ``render_packing_slip_pdf(shipments)``: one slip per shipment, all in one PDF;
- ``render_pick_list_pdf(pick_list)``: the wave's lines summed per product, by bin;
- ``render_manifest_pdf(manifest)``: the day's parcels of one carrier at one point.

A batch of many pages (a wave of slips) is split into chunks rendered in parallel by a
small pool of processes (``OMS_DOCUMENT_PROCESSES``) and merged into one PDF; layout is
what costs, and it scales with the cores. Reads only: nothing here writes a row.
"""

from __future__ import annotations

import atexit
import io
import logging
import multiprocessing
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from fulfillment import pdfworker
from fulfillment.carriers.base import Rate, shipment_weight_grams
from fulfillment.exceptions import Conflict
from fulfillment.models import Carrier, CarrierService, PickList, Shipment, ShipmentLine
from inventory.models import StockLevel

log = logging.getLogger(__name__)

BARCODE_QUIET_MODULES = 10


# --------------------------------------------------------------------------- barcodes


def code128_modules(value: str) -> str:
    """The bars of ``value`` in Code 128 as a string of '1' (bar) and '0' (space)
    modules, start and stop codes and check symbol included."""
    import barcode

    return barcode.get("code128", value).build()[0]


def code128_svg(value: str, *, width_mm: float = 90, height_mm: float = 20) -> SafeString:
    """An inline SVG of ``value`` in Code 128: one path, a bar per run of '1's, with a
    quiet zone of 10 modules on each side."""
    modules = code128_modules(value)
    runs = []
    i = 0
    while i < len(modules):
        j = i
        while j < len(modules) and modules[j] == modules[i]:
            j += 1
        if modules[i] == "1":
            runs.append(f"M{i} 0h{j - i}v1h-{j - i}z")
        i = j
    q = BARCODE_QUIET_MODULES
    return mark_safe(  # noqa: S308 - built from numbers only
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" '
        f'viewBox="-{q} 0 {len(modules) + 2 * q} 1" preserveAspectRatio="none" '
        f'width="{width_mm}mm" height="{height_mm}mm" shape-rendering="crispEdges">'
        f'<path d="{"".join(runs)}" fill="#000"/></svg>'
    )


# --------------------------------------------------------------------------- rendering


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    """The process pool, started on first use (forkserver: the workers are forked from a
    clean process that imported WeasyPrint once, never from a threaded web worker)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["weasyprint", "fulfillment.pdfworker"])
            _pool = ProcessPoolExecutor(
                max_workers=max(1, settings.OMS_DOCUMENT_PROCESSES), mp_context=context
            )
        return _pool


def _shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None


atexit.register(_shutdown_pool)


def warm_up() -> None:
    """Start the render processes now (and load their fonts) rather than on the first
    large batch."""
    if settings.OMS_DOCUMENT_PROCESSES > 1:
        pool = _executor()
        list(pool.map(pdfworker.render, ["<p>.</p>"] * settings.OMS_DOCUMENT_PROCESSES))
    pdfworker.ping()


def html_to_pdf(html: str) -> bytes:
    return pdfworker.render(html)


def merge_pdfs(pdfs: Sequence[bytes]) -> bytes:
    if len(pdfs) == 1:
        return pdfs[0]
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_batch(template: str, items: Sequence, context: dict | None = None) -> bytes:
    """One PDF of ``template`` rendered for ``items`` (the template loops over
    ``items``, a page or more each). Large batches render in parallel chunks, merged in
    order; if the pool fails, the batch renders here instead."""
    context = context or {}
    processes = settings.OMS_DOCUMENT_PROCESSES
    if (
        processes <= 1
        or len(items) < settings.OMS_DOCUMENT_PARALLEL_MIN_PAGES
        or multiprocessing.current_process().daemon  # a django-q2 worker: no children
    ):
        return html_to_pdf(render_to_string(template, {**context, "items": items}))
    size = -(-len(items) // processes)
    chunks = [
        render_to_string(template, {**context, "items": items[i : i + size]})
        for i in range(0, len(items), size)
    ]
    try:
        pdfs = list(_executor().map(pdfworker.render, chunks))
    except Exception:  # a broken pool must not cost the document
        log.exception("parallel PDF rendering failed; rendering in-process")
        _shutdown_pool()
        pdfs = [html_to_pdf(chunk) for chunk in chunks]
    return merge_pdfs(pdfs)


# --------------------------------------------------------------------------- data


@dataclass
class SlipLine:
    sku: str
    name: str
    quantity: int
    bin: str = ""


@dataclass
class PickLine:
    bin: str
    sku: str
    name: str
    barcode: str
    quantity: int
    shipments: list[str] = field(default_factory=list)


def _bins(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(product_id, warehouse_id) -> bin, in one query."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = StockLevel.objects.filter(
        product_id__in={p for p, _ in pairs}, warehouse_id__in={w for _, w in pairs}
    ).values_list("product_id", "warehouse_id", "bin")
    return {(p, w): b for p, w, b in rows if (p, w) in pairs}


def _bin_key(bin_code: str, sku: str) -> tuple:
    return (bin_code == "", bin_code, sku)


def _names(codes: set[str]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    carriers = dict(Carrier.objects.filter(code__in=codes).values_list("code", "name"))
    services = {
        (c, s): n
        for c, s, n in CarrierService.objects.filter(carrier__code__in=codes).values_list(
            "carrier__code", "code", "name"
        )
    }
    return carriers, services


def _shipments(shipments) -> list[Shipment]:
    """The shipments with what the documents print, in a few queries, in the given
    order (a queryset keeps its own ordering)."""
    lines = ShipmentLine.objects.select_related("order_line").order_by("pk")
    queryset = Shipment.objects.select_related("order", "warehouse").prefetch_related(
        Prefetch("lines", queryset=lines)
    )
    if hasattr(shipments, "model"):
        return list(queryset.filter(pk__in=shipments.values("pk")).order_by("pk"))
    ids = [s.pk for s in shipments]
    by_id = queryset.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


# --------------------------------------------------------------------------- documents


def render_packing_slip_pdf(shipments) -> bytes:
    """Packing slips, one per shipment, in one PDF: lines with quantities and bins, the
    ship-to address and how to return. ``shipments``: a queryset or a list."""
    rows = _shipments(shipments)
    if not rows:
        raise Conflict("No shipments to print")
    bins = _bins(
        (line.order_line.product_id, s.warehouse_id) for s in rows for line in s.lines.all()
    )
    items = []
    for s in rows:
        lines = [
            SlipLine(
                sku=line.order_line.sku,
                name=line.order_line.name,
                quantity=line.quantity,
                bin=bins.get((line.order_line.product_id, s.warehouse_id), ""),
            )
            for line in s.lines.all()
        ]
        lines.sort(key=lambda sl: _bin_key(sl.bin, sl.sku))
        items.append(
            {
                "shipment": s,
                "order": s.order,
                "lines": lines,
                "units": sum(x.quantity for x in lines),
            }
        )
    return render_batch(
        "fulfillment/documents/packing_slips.html",
        items,
        {
            "company": settings.OMS_COMPANY_NAME,
            "return_days": settings.OMS_RETURN_DAYS,
            "printed": timezone.localdate(),
        },
    )


def render_label_pdf(
    shipment: Shipment, *, tracking_number: str | None = None, rate: Rate | None = None
) -> bytes:
    """The shipping label to print. Without arguments: the carrier's label as booked
    when there is one, else ours rendered from the shipment's carrier, service and
    tracking number. Carriers that render their own label (the built-in one) pass the
    ``tracking_number`` and ``rate`` they are booking."""
    if tracking_number is None and rate is None and shipment.label_pdf:
        with shipment.label_pdf.storage.open(shipment.label_pdf.name, "rb") as stored:
            return stored.read()
    tracking = tracking_number or shipment.tracking_number
    if not tracking:
        raise Conflict(
            f"{shipment.number} has no tracking number yet: book it with a carrier first"
        )
    carrier_code = rate.carrier if rate else shipment.carrier
    service_code = rate.service if rate else shipment.service
    carriers, services = _names({carrier_code})
    carrier_name = (rate.carrier_name if rate else "") or carriers.get(carrier_code, carrier_code)
    service_name = (rate.service_name if rate else "") or services.get(
        (carrier_code, service_code), service_code
    )
    order = shipment.order
    grams = shipment_weight_grams(shipment)
    dims = [shipment.length_cm, shipment.width_cm, shipment.height_cm]
    context = {
        "shipment": shipment,
        "order": order,
        "warehouse": shipment.warehouse,
        "company": settings.OMS_COMPANY_NAME,
        "carrier_name": carrier_name or "Carrier",
        "service_name": service_name,
        "tracking_number": tracking,
        "barcode": code128_svg(tracking, width_mm=88, height_mm=24),
        "weight_kg": (Decimal(grams) / 1000).quantize(Decimal("0.001")) if grams else None,
        "dims": " x ".join(f"{Decimal(str(d)).normalize():f}" for d in dims) if all(dims) else "",
        "date": timezone.localdate(),
        "estimated_delivery": (rate.estimated_delivery if rate else None)
        or shipment.estimated_delivery,
    }
    return html_to_pdf(render_to_string("fulfillment/documents/label.html", context))


def pick_list_lines(pick_list: PickList) -> list[PickLine]:
    """The wave's shipment lines summed per product, sorted by bin (the walking path;
    products without a bin last)."""
    lines = (
        ShipmentLine.objects.filter(shipment__pick_list=pick_list)
        .exclude(shipment__status=Shipment.Status.CANCELLED)
        .select_related("order_line__product", "shipment")
        .order_by("pk")
    )
    bins = _bins((p, pick_list.warehouse_id) for p in {ln.order_line.product_id for ln in lines})
    by_product: dict[int, PickLine] = {}
    for line in lines:
        product = line.order_line.product
        row = by_product.get(product.pk)
        if row is None:
            row = by_product[product.pk] = PickLine(
                bin=bins.get((product.pk, pick_list.warehouse_id), ""),
                sku=product.sku,
                name=product.name,
                barcode=product.barcode,
                quantity=0,
            )
        row.quantity += line.quantity
        if line.shipment.number not in row.shipments:
            row.shipments.append(line.shipment.number)
    return sorted(by_product.values(), key=lambda r: _bin_key(r.bin, r.sku))


def render_pick_list_pdf(pick_list: PickList) -> bytes:
    """The batch pick list: one line per product (quantities summed over the wave's
    shipments) in bin order, then which shipment takes what."""
    pick_list = PickList.objects.select_related("warehouse", "assigned_to").get(pk=pick_list.pk)
    lines = pick_list_lines(pick_list)
    shipments = list(
        pick_list.shipments.exclude(status=Shipment.Status.CANCELLED)
        .select_related("order")
        .prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line"))
        )
        .order_by("pk")
    )
    context = {
        "pick_list": pick_list,
        "lines": lines,
        "shipments": shipments,
        "units": sum(line.quantity for line in lines),
        "barcode": code128_svg(pick_list.number, width_mm=60, height_mm=12),
        "company": settings.OMS_COMPANY_NAME,
        "printed": timezone.localtime(),
    }
    return html_to_pdf(render_to_string("fulfillment/documents/pick_list.html", context))


def render_manifest_pdf(manifest) -> bytes:
    """The end-of-day manifest: each parcel handed over (its tracking number as a Code
    128 barcode, one row per box), totals, and lines for the driver to sign."""
    shipments = list(
        manifest.shipments.select_related("order").prefetch_related("parcels").order_by("number")
    )
    rows = []
    for shipment in shipments:
        boxes = list(shipment.parcels.all()) or [None]
        for box in boxes:
            tracking = (box.tracking_number if box else "") or shipment.tracking_number
            grams = box.weight_grams if box else shipment_weight_grams(shipment)
            rows.append(
                {
                    "shipment": shipment,
                    "box": box.sequence if box else 1,
                    "boxes": len(boxes),
                    "tracking": tracking,
                    "grams": (
                        grams := box.weight_grams if box else shipment_weight_grams(shipment)
                    ),
                    "kg": (Decimal(grams) / 1000).quantize(Decimal("0.01")),
                    "barcode": code128_svg(tracking, width_mm=60, height_mm=10) if tracking else "",
                }
            )
    carriers, _ = _names({manifest.carrier})
    context = {
        "manifest": manifest,
        "carrier_name": carriers.get(manifest.carrier, manifest.carrier),
        "rows": rows,
        "shipments": shipments,
        "kg": (Decimal(sum(r["grams"] for r in rows)) / 1000).quantize(Decimal("0.1")),
        "barcode": code128_svg(manifest.number, width_mm=60, height_mm=12),
        "company": settings.OMS_COMPANY_NAME,
        "printed": timezone.localtime(),
    }
    return html_to_pdf(render_to_string("fulfillment/documents/manifest.html", context))
