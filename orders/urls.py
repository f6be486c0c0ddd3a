"""Order pages (managers), mounted at /orders/. The action URLs under the same prefix
(confirm, hold, release, cancel, re-route) are ``fulfillment.urls.order_action_urls``."""

from django.urls import path

from orders import customer_views, views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("customers/<path:email>/", customer_views.customer_detail, name="customer"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/notes/", customer_views.order_note_create, name="note_create"),
]
