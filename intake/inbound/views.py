"""The channel intake endpoints: ``POST /api/v1/channels/{code}/intake/shopify/`` and
``.../woocommerce/``. No token: each request must carry the platform's HMAC of the raw
body made with the channel's webhook secret; anything unsigned or mis-signed (or for a
channel without a secret, or that does not exist) gets 401 and nothing is written.
Throttled with the ``intake`` scope. A verified delivery gets 200 whatever became of
it (the body says: processed, needs_attention, ignored, duplicate), so the platform
does not retry what would fail the same way; an unexpected error answers 500 with
nothing written, and the platform retries."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from intake.inbound import shopify, woocommerce
from intake.inbound.services import channel_accepted_secrets, intake_receive
from orders.models import Channel


class IntakeResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["processed", "needs_attention", "ignored", "duplicate", "pong"]
    )
    message = serializers.CharField()
    order = serializers.CharField(allow_null=True, help_text="Our order number")
    delivery = serializers.IntegerField(allow_null=True, help_text="The intake delivery id")


class IntakeErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


UNAUTHORIZED = {"detail": "Missing or invalid webhook signature."}


class _IntakeView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "intake"
    platform = None  # the module: shopify / woocommerce

    def _refuse(self) -> Response:
        return Response(UNAUTHORIZED, status=status.HTTP_401_UNAUTHORIZED)

    def receive(self, request, code: str) -> Response:
        body = request.body  # the raw bytes the signature covers; never request.data
        module = self.platform
        if getattr(module, "is_ping", None) and module.is_ping(body):
            return Response(
                {"status": "pong", "message": "Webhook ping", "order": None, "delivery": None}
            )
        channel = Channel.objects.filter(code=code).first()
        meta = request.META
        if channel is None or not any(
            module.signature_valid(secret, body, meta)
            for secret in channel_accepted_secrets(channel)
        ):
            return self._refuse()
        result = intake_receive(
            channel=channel,
            platform=module.PLATFORM,
            topic=meta.get(module.TOPIC_HEADER, ""),
            delivery_id=meta.get(module.DELIVERY_HEADER, ""),
            body=body,
            headers={name: meta[key] for key, name in module.KEPT_HEADERS.items() if key in meta},
        )
        return Response(result.as_dict(), status=status.HTTP_200_OK)


def _schema(platform: str, signature: str, topics: str):
    return extend_schema(
        operation_id=f"channels_intake_{platform.lower()}",
        summary=f"{platform} order webhook",
        description=(
            f"The {platform} webhook of the channel `code` (topics {topics}). No token: "
            f"`{signature}` must be the base64 HMAC-SHA256 of the raw body made with the "
            "channel's webhook secret, else 401 and nothing is written. 200 tells what "
            "became of a verified delivery."
        ),
        auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter(signature, OpenApiTypes.STR, OpenApiParameter.HEADER),
        ],
        responses={
            200: IntakeResponseSerializer,
            401: OpenApiResponse(IntakeErrorSerializer, description="Unsigned or mis-signed"),
        },
        tags=["channels"],
    )


class ShopifyIntakeView(_IntakeView):
    platform = shopify

    @_schema("Shopify", "X-Shopify-Hmac-Sha256", "orders/create, orders/updated, orders/cancelled")
    def post(self, request, code: str):
        return self.receive(request, code)


class WooCommerceIntakeView(_IntakeView):
    platform = woocommerce

    @_schema("WooCommerce", "X-WC-Webhook-Signature", "order.created, order.updated")
    def post(self, request, code: str):
        return self.receive(request, code)
