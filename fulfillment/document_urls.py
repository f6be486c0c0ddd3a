"""Staff PDF downloads under /fulfillment/ (the floor pages live in fulfillment.urls)."""

from django.urls import path

from fulfillment import document_views as views

app_name = "documents"

urlpatterns = [
    path("shipments/<str:number>/label.pdf", views.shipment_label, name="shipment-label"),
    path(
        "shipments/<str:number>/packing-slip.pdf",
        views.shipment_packing_slip,
        name="shipment-packing-slip",
    ),
    path("pick-lists/<str:number>/pick-list.pdf", views.pick_list_pdf, name="pick-list"),
    path("manifests/<str:number>/manifest.pdf", views.manifest_pdf, name="manifest"),
    path(
        "pick-lists/<str:number>/packing-slips.pdf",
        views.pick_list_packing_slips,
        name="pick-list-packing-slips",
    ),
]
