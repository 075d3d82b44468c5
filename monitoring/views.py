from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def my_patients(request):
    return render(request, "monitoring/my_patients.html", {})
