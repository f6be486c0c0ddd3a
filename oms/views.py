from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from oms.roles import is_manager


@login_required
def home(request):
    return render(request, "oms/home.html", {"is_manager": is_manager(request.user)})
