"""The OpenAPI schema's error answers: every operation documents the 400, 404 and 409
it really gives, with the error body of ``kernel.api.exception_handler``.

- 400 for every operation that takes a body (POST, PUT, PATCH) and for lists with
  filters (a malformed filter value is a 400 with a message per filter);
- 404 for every operation with a key in its path (an unknown sku, code or number);
- 409 where a view names the action in ``schema_conflicts`` (state conflicts raised by
  the services), besides the ones declared with ``extend_schema`` by hand.

Declared answers win: a description given with ``extend_schema`` is kept as it is."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error body: ``detail`` always; besides it, ``code`` (a stable error code) for
    domain errors, and for a 400 a list of messages under each field at fault (a field
    may itself be named ``code``, so no other key is typed here)."""

    detail = serializers.CharField()


ERROR_DESCRIPTIONS = {
    "400": "Bad input: `detail`, and a list of messages under each field at fault",
    "404": "Nothing with that key (an unknown sku, code or number in the URL)",
    "409": "The current state refuses this (a state conflict, or not enough stock)",
}


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("400")
        elif self.method == "GET" and self._is_list_view() and self._has_filters():
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        action = getattr(self.view, "action", None)
        if action and action in getattr(self.view, "schema_conflicts", ()):
            codes.append("409")
        return codes

    def _has_filters(self) -> bool:
        view = self.view
        return bool(
            getattr(view, "filterset_class", None)
            or getattr(view, "filterset_fields", None)
            or self.get_override_parameters()  # query parameters declared by hand
        )

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return responses
        for code in self._error_codes():
            if code in responses:
                continue
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                code,
                direction=direction,
            )
        return dict(sorted(responses.items()))
