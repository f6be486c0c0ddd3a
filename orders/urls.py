"""Order pages (managers), mounted at /orders/. The action URLs under the same prefix
(confirm, hold, release, cancel, re-route) are ``fulfillment.urls.order_action_urls``."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("<str:number>/", views.order_detail, name="detail"),
]
