"""Staff PDF downloads under /returns/ (the floor pages live in returns.urls)."""

from django.urls import path

from returns.document_views import return_slip

app_name = "return_documents"

urlpatterns = [
    path("<str:number>/return-slip.pdf", return_slip, name="return-slip"),
]
