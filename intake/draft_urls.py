"""The staff order page (managers), mounted at /orders/new/ (before the order pages,
whose ``<number>/`` would take ``new``)."""

from django.urls import path

from intake import draft_views as views

app_name = "staff-orders"

urlpatterns = [
    path("", views.draft_list, name="list"),
    path("start/", views.draft_start, name="start"),
    path("<int:pk>/", views.draft_edit, name="edit"),
    path("<int:pk>/customer/", views.customer_pick, name="customer"),
    path("<int:pk>/lines/scan/", views.line_scan, name="scan"),
    path("<int:pk>/lines/", views.lines_update, name="lines"),
    path("<int:pk>/lines/remove/", views.line_remove, name="remove-line"),
    path("<int:pk>/place/", views.draft_place_view, name="place"),
    path("<int:pk>/discard/", views.draft_discard_view, name="discard"),
]
