"""Managers' pages of Step 7: the dashboard, replenishment and the review queue."""

from django.urls import path

from inventory import replenishment_views
from oms import dashboard
from orders import review_views

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("replenishment/", replenishment_views.replenishment_list, name="replenishment"),
    path(
        "replenishment/export.csv",
        replenishment_views.replenishment_export,
        name="replenishment-export",
    ),
    path(
        "replenishment/purchase-orders/",
        replenishment_views.replenishment_purchase_orders,
        name="replenishment-purchase-orders",
    ),
    path("review/", review_views.review_list, name="review-queue"),
    path("review/<str:number>/approve/", review_views.review_approve, name="review-approve"),
    path("review/<str:number>/cancel/", review_views.review_cancel, name="review-cancel"),
]
