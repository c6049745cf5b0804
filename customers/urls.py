"""Console pages of one store, mounted under /s/<store_slug>/."""

from django.urls import path

from customers import views, views_store_admin

urlpatterns = [
    path("", views.store_home, name="store_home"),
    path("settings/", views_store_admin.store_settings, name="store_settings"),
    path("api-keys/", views_store_admin.api_keys, name="api_keys"),
    path(
        "api-keys/<int:key_id>/revoke/",
        views_store_admin.api_key_revoke_view,
        name="api_key_revoke",
    ),
]
