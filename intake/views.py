"""The channel sync page (managers): per channel the last push, SKUs waiting, failures
with the platform's message, the last reconciliation and what it found; "resync all"."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from intake.selectors import sync_overview
from intake.sync.stock import channel_stock_mark_all
from intake.sync.wiring import queue_push
from kernel.views import manager_required
from orders.models import Channel, Platform


@manager_required
def sync_page(request):
    return render(request, "intake/sync_list.html", {"rows": sync_overview()})


@manager_required
@require_POST
def resync_all(request, code: str):
    channel = get_object_or_404(Channel.objects.exclude(platform=Platform.NONE), code=code)
    count = channel_stock_mark_all(channel=channel)
    queue_push()
    messages.success(request, f"{channel.code}: {count} SKUs queued to be pushed again.")
    return redirect("channel-sync:list")
