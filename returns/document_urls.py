"""Staff pages under /returns/: PDF downloads, the refund of a received return, and the
order page's return actions (start, approve); the floor pages live in returns.urls."""

from django.urls import path

from returns.document_views import return_slip
from returns.order_views import order_return_start, return_approve_view
from returns.views import refund

app_name = "return_documents"

urlpatterns = [
    path("<str:number>/return-slip.pdf", return_slip, name="return-slip"),
    path("<str:number>/refund/", refund, name="refund"),
    path("<str:number>/approve/", return_approve_view, name="approve"),
    path("order/<str:number>/start/", order_return_start, name="order_start"),
]
