from django.urls import path

from oms import imports_views as views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/errors.csv", views.import_errors_csv, name="errors_csv"),
    path("export/<slug:kind>.csv", views.export_csv, name="export"),
]
