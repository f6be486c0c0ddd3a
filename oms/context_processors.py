"""What every staff page's layout needs: the user's roles (for the navigation) and the
store's name (for pages customers see)."""

from django.conf import settings

from kernel.roles import MANAGER, WAREHOUSE, has_role


def layout(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "nav_is_manager": has_role(user, MANAGER),
        "nav_is_floor": has_role(user, WAREHOUSE, MANAGER),
        "store_name": settings.OMS_COMPANY_NAME,
    }
