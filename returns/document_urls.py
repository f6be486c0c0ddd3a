"""Staff pages under /returns/: PDF downloads and the refund of a received return (the
floor pages live in returns.urls)."""

from django.urls import path

from returns.document_views import return_slip
from returns.views import refund

app_name = "return_documents"

urlpatterns = [
    path("<str:number>/return-slip.pdf", return_slip, name="return-slip"),
    path("<str:number>/refund/", refund, name="refund"),
]
