"""Staff pages for CSV imports (managers only): upload a file, watch it run, read the
result or the per-row error report; and CSV downloads of products, stock and orders.

The upload creates an ImportJob and queues ``oms.tasks.run_import`` after commit; the
job page refreshes itself (a meta refresh, no JavaScript needed) until the job ends.
"""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.tasks import async_task

from kernel.csvio import stream_csv, write_csv
from kernel.models import ImportJob
from kernel.roles import is_manager

MB = 1024 * 1024
REFRESH_SECONDS = 2


def manager_required(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied("CSV imports and exports are for managers")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"), choices=ImportJob.Kind.choices
    )
    file = forms.FileField(label=gettext_lazy("CSV file"))
    dry_run = forms.BooleanField(
        required=False,
        label=gettext_lazy("Dry run: check the file and count the changes, write nothing"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.OMS_MAX_UPLOAD_MB
        if upload.size > limit * MB:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s MB; the limit is %(limit)s MB. "
                    "Split it into smaller files."
                )
                % {"size": f"{upload.size / MB:.1f}", "limit": limit}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


@manager_required
def import_list(request):
    """The upload form and the latest imports."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob.objects.create(
            kind=form.cleaned_data["kind"],
            file=upload,
            filename=upload.name[:255],
            dry_run=form.cleaned_data["dry_run"],
            created_by=request.user,
        )
        transaction.on_commit(partial(async_task, "oms.tasks.run_import", job.pk))
        return redirect("imports:detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:25]
    return render(
        request,
        "oms/imports_list.html",
        {
            "form": form,
            "jobs": jobs,
            "max_mb": settings.OMS_MAX_UPLOAD_MB,
            "export_kinds": EXPORTS,
        },
        status=400 if form.errors else 200,
    )


@manager_required
def import_detail(request, pk: int):
    """Progress while the job runs (the page refreshes itself), then the result."""
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return render(
        request,
        "oms/imports_detail.html",
        {
            "job": job,
            "refresh": None if job.is_finished else REFRESH_SECONDS,
            "result": job.result or {},
            "more_errors": (job.result or {}).get("more_errors", 0),
            "elapsed": ((job.finished_at or timezone.now()) - job.started_at)
            if job.started_at
            else None,
        },
    )


@manager_required
def import_errors_csv(request, pk: int):
    """The error report of a rejected file, as CSV (row, column, value, message)."""
    job = get_object_or_404(ImportJob, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    write_csv(
        ([e["row"], e["column"], e["value"], e["message"]] for e in job.errors),
        response,
        header=["row", "column", "value", "message"],
    )
    return response


def _product_rows():
    from inventory.exports import product_csv_rows
    from inventory.imports import PRODUCT_COLUMNS

    return PRODUCT_COLUMNS, product_csv_rows()


def _stock_rows():
    from inventory.exports import stock_csv_rows
    from inventory.imports import STOCK_COLUMNS

    return STOCK_COLUMNS, stock_csv_rows()


def _order_rows():
    from orders.exports import ORDER_EXPORT_COLUMNS, order_csv_rows

    return ORDER_EXPORT_COLUMNS, order_csv_rows()


EXPORTS = {"products": _product_rows, "stock": _stock_rows, "orders": _order_rows}


@manager_required
def export_csv(request, kind: str):
    """Stream every product, stock level or order line as CSV (flat memory)."""
    if kind not in EXPORTS:
        raise Http404("unknown export")
    header, rows = EXPORTS[kind]()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        stream_csv(rows, header=header), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.csv"'
    return response
