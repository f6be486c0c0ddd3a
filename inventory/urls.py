"""Stock pages, mounted at /floor/stock/."""

from django.urls import path

from inventory import receiving_views, views

app_name = "stock"

urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("receive/", views.receive, name="receive"),
    path("receive/po/", receiving_views.receive_documents, name="receive-documents"),
    path("receive/po/<str:number>/", receiving_views.receive_po, name="receive-po"),
    path(
        "receive/transfer/<str:number>/",
        receiving_views.receive_transfer,
        name="receive-transfer",
    ),
    path("<int:pk>/", views.level, name="level"),
]
