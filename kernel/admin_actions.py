"""The helpers every app's admin uses.

Admin actions are thin, like every other interface: they take the selection (and, when
the action needs input, a small intermediate form), call one service per object in its
own transaction, and turn a domain error into a message naming the object. The admin
never saves a status or a quantity itself.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import model_ngettext
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from kernel.exceptions import DomainError

ACTION_FORM_TEMPLATE = "admin/action_form.html"
MAX_NAMES = 10


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        shown += f" and {len(names) - MAX_NAMES} more"
    return shown


def call_in_own_transaction(service: Callable[..., Any], *args, **kwargs) -> Any:
    """Run one service call so that its failure undoes only its own work.

    Services open their own transaction (and ``retry_on_conflict`` retries a deadlock
    only when it is the outermost one), so outside a transaction they are called as they
    are. Inside one (``ATOMIC_REQUESTS``, tests) the call gets a savepoint.
    """
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return service(*args, **kwargs)
    return service(*args, **kwargs)


def run_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet | Iterable[Model],
    service: Callable[[Any], Any],
    *,
    done: str,
) -> list:
    """Call ``service(obj)`` for each selected object, each in its own transaction
    (``call_in_own_transaction``).

    A DomainError rolls back that object's work only and is reported as
    ``"<object>: <message>"``; the loop goes on with the others. The successes are
    summarised in one message, ``"<done> <n> <objects>: <names>"``. Objects are taken in
    primary-key order so that two admins acting on overlapping selections lock alike.
    Returns what the service returned for each success.
    """
    objects = list(queryset.order_by("pk") if isinstance(queryset, QuerySet) else queryset)
    succeeded: list[str] = []
    results = []
    for obj in objects:
        name = str(obj)
        try:
            results.append(call_in_own_transaction(service, obj))
        except DomainError as exc:
            modeladmin.message_user(request, f"{name}: {exc.message}", messages.ERROR)
        else:
            succeeded.append(name)
    if succeeded:
        noun = model_ngettext(modeladmin.model._meta, len(succeeded))
        modeladmin.message_user(
            request, f"{done} {len(succeeded)} {noun}: {_names(succeeded)}", messages.SUCCESS
        )
    return results


def action_form(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    form_class: type[forms.Form],
    *,
    action: str,
    title: str,
    submit: str = "Apply",
    intro: str = "",
    form_kwargs: dict | None = None,
) -> tuple[forms.Form | None, TemplateResponse | None]:
    """The intermediate page of an action that needs input (a reason, a quantity).

    Returns ``(form, None)`` once a valid form was posted back from that page, else
    ``(None, response)``: the page to show, first empty, then again with the form's
    errors. The page posts the selection back to the changelist under the same
    ``action`` name, so Django routes it to the same action function.
    """
    form_kwargs = form_kwargs or {}
    if "apply" in request.POST:
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            return form, None
    else:
        form = form_class(**form_kwargs)
    objects = list(queryset.order_by("pk"))
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit": submit,
        "form": form,
        "objects": objects,
        "objects_name": model_ngettext(opts, len(objects)),
        "opts": opts,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return None, TemplateResponse(request, ACTION_FORM_TEMPLATE, context)


def save_changed_fields(obj: Model, form: forms.ModelForm, change: bool) -> list[str]:
    """``save_model`` for models whose status or quantities belong to services.

    A plain ``obj.save()`` writes every column as it was read when the admin page was
    posted, which would undo a status or quantity a service changed in the meantime.
    Only the fields the form changed are written (plus ``auto_now`` timestamps).
    Returns the names of the fields written.
    """
    if not change:
        obj.save()
        return [f.name for f in obj._meta.concrete_fields]
    concrete = {f.name for f in obj._meta.concrete_fields}
    fields = [name for name in form.changed_data if name in concrete]
    if fields:
        auto_now = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=[*fields, *auto_now])
    return fields


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255, widget=forms.TextInput(attrs={"size": 60, "autofocus": True})
    )


def run_reason_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    service: Callable[[Any, str], Any],
    *,
    action: str,
    title: str,
    submit: str,
    done: str,
    intro: str = "",
) -> TemplateResponse | None:
    """An action that asks for a reason first (hold, cancel, reject, close short): the
    ``ReasonForm`` page of ``action_form``, then ``service(obj, reason)`` for each
    selected object as ``run_action`` calls it. Returns the page to show, or None once
    the action ran (the changelist then shows its messages)."""
    form, response = action_form(
        modeladmin,
        request,
        queryset,
        ReasonForm,
        action=action,
        title=title,
        submit=submit,
        intro=intro,
    )
    if response:
        return response
    reason = form.cleaned_data["reason"]
    run_action(modeladmin, request, queryset, lambda obj: service(obj, reason), done=done)
    return None


class ReadOnlyInlineMixin:
    """An inline that only shows rows: they are written by services."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyAdminMixin:
    """A model the admin may list and show but never add, change or delete
    (append-only ledgers, rows written only by services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
