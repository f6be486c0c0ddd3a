"""Returns receiving pages, mounted at /floor/returns/."""

from django.urls import path

from returns import views

app_name = "returns_floor"

urlpatterns = [
    path("", views.receive_lookup, name="receive_lookup"),
    path("<str:number>/", views.receive, name="receive"),
]
