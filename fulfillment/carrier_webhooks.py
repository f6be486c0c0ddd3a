"""Couriers' tracking webhooks: ``POST /api/v1/carriers/{code}/webhooks/{secret}/``.

No token: the URL registered with the courier carries the carrier's ``webhook_secret``
(an unknown carrier or a wrong secret is a 401 and nothing happens). The courier's
documents publish no signature for its webhooks, so the body is never believed: it only
names the parcel, whose tracking is then read back from the courier's API and recorded
(``carrier_webhook_track``). A delivery about something not ours, or a topic that is not
about tracking, is answered 200 "ignored" so the courier does not retry it; when the
courier's API cannot be read back the answer is 502 and the courier retries later.
"""

import hmac
import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from fulfillment.carriers import adapter_for
from fulfillment.carriers.base import CarrierError
from fulfillment.models import Carrier
from fulfillment.services.tracking import carrier_webhook_track


class CarrierWebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "ignored"])
    message = serializers.CharField()
    shipment = serializers.CharField(allow_null=True)
    shipment_status = serializers.CharField(allow_null=True)
    created = serializers.IntegerField(help_text="Tracking events stored now")


def _answer(state: str, message: str, shipment=None, created: int = 0, code=200) -> Response:
    return Response(
        {
            "status": state,
            "message": message,
            "shipment": shipment.number if shipment else None,
            "shipment_status": shipment.status if shipment else None,
            "created": created,
        },
        status=code,
    )


class CarrierWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "intake"

    @extend_schema(
        operation_id="carriers_tracking_webhook",
        summary="Courier tracking webhook",
        description=__doc__,
        request=OpenApiTypes.OBJECT,
        responses={
            200: CarrierWebhookResultSerializer,
            400: OpenApiResponse(description="The body is not JSON"),
            401: OpenApiResponse(description="Unknown carrier or wrong secret"),
            502: OpenApiResponse(description="The courier's tracking could not be read back"),
        },
    )
    def post(self, request, code: str, secret: str):
        carrier = Carrier.objects.filter(code=code, active=True).first()
        adapter = adapter_for(carrier) if carrier is not None else None
        if (
            adapter is None
            or not carrier.webhook_secret
            or not hmac.compare_digest(secret.encode(), carrier.webhook_secret.encode())
            or not hasattr(adapter, "webhook_awb")
        ):
            return Response({"detail": "Unknown webhook URL."}, status=status.HTTP_401_UNAUTHORIZED)
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return Response({"detail": "The body is not JSON."}, status=status.HTTP_400_BAD_REQUEST)
        awb, reference = adapter.webhook_awb(payload)
        if not awb and not reference:
            return _answer("ignored", "Not a tracking update")
        try:
            shipment, result = carrier_webhook_track(
                carrier=carrier, awb_number=awb, reference=reference
            )
        except CarrierError as exc:
            return Response(
                {"detail": exc.message, "code": exc.code}, status=status.HTTP_502_BAD_GATEWAY
            )
        if shipment is None:
            return _answer("ignored", f"No shipment of {carrier.code} with {awb or reference}")
        return _answer("processed", "Tracking read back from the carrier", shipment, result.created)
