from django.urls import path

from intake import views

app_name = "channel-sync"

urlpatterns = [
    path("", views.sync_page, name="list"),
    path("<slug:code>/resync/", views.resync_all, name="resync"),
]
