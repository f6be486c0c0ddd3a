"""REST API v1: outgoing webhook subscriptions and their delivery log.

``webhooks/subscriptions/``  list, create (the secret is returned once, in the create
                             answer), retrieve, delete
``webhooks/deliveries/``     the delivery log (one row per attempt), filter ``status``,
                             ``event_type``, ``subscription``; ``redeliver/`` sends the
                             attempt's event again
"""

import django_filters
from django.core.validators import URLValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel import webhooks
from kernel.api import ModelSerializer, RolePermission
from kernel.models import WebhookDelivery, WebhookSubscription, new_webhook_secret

EVENT_CHOICES = [*webhooks.EVENT_TYPES, webhooks.ALL_EVENTS]


class WebhookSubscriptionSerializer(ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        allow_empty=False,
        max_length=len(EVENT_CHOICES),
        help_text='Event types to receive; ["*"] for every type.',
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "description", "event_types", "active", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"url": {"validators": [URLValidator(schemes=["http", "https"])]}}

    def validate_event_types(self, value):
        return sorted(set(value), key=EVENT_CHOICES.index)


class WebhookSubscriptionCreateSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        min_length=16,
        max_length=128,
        required=False,
        help_text="Signing secret; generated when omitted. Returned once, in this answer.",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(ModelSerializer):
    event = serializers.UUIDField(source="event.uuid", read_only=True)
    event_type = serializers.CharField(source="event.event_type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "subscription",
            "url",
            "attempt",
            "manual",
            "status",
            "status_code",
            "latency_ms",
            "error",
            "due_at",
            "started_at",
            "finished_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event_type = django_filters.ChoiceFilter(
        field_name="event__event_type", choices=[(t, t) for t in webhooks.EVENT_TYPES]
    )
    subscription = django_filters.NumberFilter(field_name="subscription_id")

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type", "subscription"]


class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who hears about what. Deleting a subscription keeps its delivery log."""

    permission_classes = [RolePermission]
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.order_by("id")

    @extend_schema(
        request=WebhookSubscriptionCreateSerializer,
        responses={201: WebhookSubscriptionCreateSerializer},
    )
    def create(self, request):
        serializer = WebhookSubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = WebhookSubscription.objects.create(
            url=data["url"],
            description=data.get("description", ""),
            event_types=data["event_types"],
            active=data.get("active", True),
            secret=data.get("secret") or new_webhook_secret(),
        )
        return Response(
            WebhookSubscriptionCreateSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log: one row per attempt, newest first."""

    permission_classes = [RolePermission]
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    queryset = WebhookDelivery.objects.select_related("event").order_by("-id")

    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            400: OpenApiResponse(description="The subscription was deleted"),
        },
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send this attempt's event to its subscription again, now (a new attempt)."""
        attempt = webhooks.redeliver(delivery=self.get_object(), actor=request.user)
        attempt = WebhookDelivery.objects.select_related("event").get(pk=attempt.pk)
        return Response(WebhookDeliverySerializer(attempt).data, status=status.HTTP_202_ACCEPTED)
