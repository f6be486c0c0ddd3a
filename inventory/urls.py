"""Stock pages, mounted at /floor/stock/."""

from django.urls import path

from inventory import views

app_name = "stock"

urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("receive/", views.receive, name="receive"),
    path("<int:pk>/", views.level, name="level"),
]
