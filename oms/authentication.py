"""API token authentication that reads the user's roles in the same query."""

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from oms.roles import remember_roles


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token <key>`` check. On PostgreSQL the user's group names
    come back with the token and its user (an array subquery), so the role check that
    follows on every API request (``oms.roles.user_roles``) needs no second query."""

    def authenticate_credentials(self, key):
        tokens = self.get_model().objects.select_related("user")
        if connection.vendor == "postgresql":
            from django.contrib.postgres.expressions import ArraySubquery

            tokens = tokens.annotate(
                role_names=ArraySubquery(
                    Group.objects.filter(user=OuterRef("user_id")).values("name")
                )
            )
        try:
            token = tokens.get(key=key)
        except self.get_model().DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if hasattr(token, "role_names"):
            remember_roles(token.user, token.role_names)
        return (token.user, token)
