from django.urls import path
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from oms.urls import urlpatterns as oms_urlpatterns


@api_view(["POST"])
@authentication_classes([])
@permission_classes([])
def noop(request):
    """Parses the JSON body and answers: the cost of DRF itself, no database."""
    return Response({"ok": True, "size": len(request.data)}, status=201)


urlpatterns = [path("bench/noop/", noop), *oms_urlpatterns]
