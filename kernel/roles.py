"""Staff roles (Django groups) and the checks every interface uses.

``warehouse``   floor pages: pick, pack, ship, receive returns, count stock
``manager``     everything in the staff pages and the admin, CSV, approvals, API tokens
``integration`` API only (service accounts)
"""

from functools import partial

WAREHOUSE = "warehouse"
MANAGER = "manager"
INTEGRATION = "integration"
ROLES = (WAREHOUSE, MANAGER, INTEGRATION)

DOMAIN_APPS = ("inventory", "orders", "fulfillment", "returns")

# Model permissions per group, as (app_label, codename prefix list | "all").
# Managers get everything on the domain apps (they work in the admin); the other groups
# get what the API and floor pages check, read mostly.
GROUP_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    MANAGER: {
        "inventory": ["view", "add", "change", "delete"],
        "orders": ["view", "add", "change", "delete"],
        "fulfillment": ["view", "add", "change", "delete"],
        "returns": ["view", "add", "change", "delete"],
        "authtoken": ["view", "add", "change", "delete"],
        "oms": ["view", "add", "change", "delete"],  # webhook subscriptions, intake log
        "intake": ["view", "add", "change", "delete"],  # channel sync
        "django_q": ["view"],
        "axes": ["view", "delete"],  # login lockout: read the attempts, delete one to unlock
    },
    WAREHOUSE: {
        "inventory": ["view"],
        "orders": ["view"],
        "fulfillment": ["view", "change"],
        "returns": ["view", "change"],
    },
    INTEGRATION: {
        "inventory": ["view", "add", "change"],
        "orders": ["view", "add", "change"],
        "fulfillment": ["view", "change"],
        "returns": ["view", "add", "change"],
    },
}


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_oms_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user, names) -> set[str]:
    """Cache the user's group names for ``user_roles`` (read once per request)."""
    user._oms_roles = set(names)
    return user._oms_roles


def has_role(user, *roles: str) -> bool:
    """True for a superuser, or a user in any of ``roles``."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(user_roles(user) & set(roles))


def is_manager(user) -> bool:
    return has_role(user, MANAGER)


def may_use_admin(user) -> bool:
    """The admin is for managers (the ``manager`` group is enough: nobody has to tick
    ``is_staff`` as well) and for staff users and superusers set up by hand."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return user.is_staff or is_manager(user)


def roles_context(request) -> dict:
    """Template context processor: what the navigation may offer this user (callables:
    the template calls them only where it asks, so pages that do not ask pay nothing)."""
    return {"may_use_admin": partial(may_use_admin, getattr(request, "user", None))}


def sync_groups(apps=None) -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    for group_name, per_app in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for app_label, actions in per_app.items():
            for perm in Permission.objects.filter(content_type__app_label=app_label):
                if perm.codename.split("_", 1)[0] in actions:
                    wanted.append(perm)
        group.permissions.set(wanted)
