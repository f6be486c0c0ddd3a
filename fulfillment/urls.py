"""Warehouse floor pages, mounted at /floor/ (returns and stock have their own files)."""

from django.urls import path, re_path

from fulfillment import courier_views, order_change_views, views

app_name = "floor"

urlpatterns = [
    path("pick/", views.pick_queue, name="pick_queue"),
    path("pick/<str:number>/", views.pick_list_detail, name="pick_list"),
    path("pick/<str:number>/scan/", views.pick_scan, name="pick_scan"),
    path("pick/<str:number>/short/", views.pick_short, name="pick_short"),
    path("pack/", views.pack, name="pack"),
    path("pack/<str:number>/", views.pack_shipment, name="pack_shipment"),
    path("pack/<str:number>/scan/", views.pack_scan, name="pack_scan"),
    path("pack/<str:number>/ship/", views.pack_ship, name="pack_ship"),
    path("pack/<str:number>/reset/", views.pack_reset, name="pack_reset"),
    path("pack/<str:number>/print/", views.pack_print, name="pack_print"),
    path("pack/<str:number>/parcels/", courier_views.pack_add_parcel, name="pack_add_parcel"),
    path(
        "pack/<str:number>/parcels/<int:sequence>/remove/",
        courier_views.pack_remove_parcel,
        name="pack_remove_parcel",
    ),
    path("manifests/", courier_views.manifest, name="manifest"),
]

# Mounted at /orders/ beside orders.urls (the order detail page posts here).
order_action_urls = [
    re_path(
        r"^(?P<number>[^/]+)/(?P<action>confirm|hold|release|cancel)/$",
        views.order_action,
        name="order_action",
    ),
    path("<str:number>/reroute/", views.order_reroute, name="order_reroute"),
    path("<str:number>/edit/", order_change_views.order_edit_view, name="order_edit"),
    path(
        "<str:number>/cancel-lines/",
        order_change_views.order_cancel_lines_view,
        name="order_cancel_lines",
    ),
]
