"""Console pages of one store, mounted under /s/<store_slug>/."""

from django.urls import path

from customers import views

urlpatterns = [
    path("", views.store_home, name="store_home"),
]
