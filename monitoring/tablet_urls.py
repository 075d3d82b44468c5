from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_patients, name="my_patients"),
]
