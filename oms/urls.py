from django.contrib import admin
from django.urls import include, path

from oms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("imports/", include("oms.imports_urls")),
    path("api/", include("oms.api_urls")),
]
