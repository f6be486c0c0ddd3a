"""The order page's notes partial: ``internal_notes`` picks the staff notes among the
timeline events already loaded for the page (no query of its own); ``note_form`` is the
form the view handed back with its errors, else an empty one."""

from django import template

from orders.forms import NoteForm
from orders.notes import is_internal_note

register = template.Library()


@register.filter
def internal_notes(events) -> list:
    return [event for event in events if is_internal_note(event)]


@register.simple_tag(takes_context=True)
def note_form(context) -> NoteForm:
    return context.get("note_form") or NoteForm()
