"""Console pages of one store, mounted under /s/<store_slug>/."""

from django.urls import path

from customers import converters  # noqa: F401 (registers <identifier:...>)
from customers.console import settings_views, views
from customers.privacy import forget_views, profile_views
from customers.retention import views as retention_views

urlpatterns = [
    path("", views.store_home, name="store_home"),
    path("customers/", profile_views.customer_list, name="customer_list"),
    # The identifier is one path segment (customers.converters encodes any / in it).
    path(
        "customer/<identifier:identifier>/download/",
        profile_views.customer_download,
        name="customer_download",
    ),
    path(
        "customer/<identifier:identifier>/forget/",
        forget_views.customer_forget,
        name="customer_forget",
    ),
    path(
        "customer/<identifier:identifier>/", profile_views.customer_profile, name="customer_profile"
    ),
    path(
        "visitor/<identifier:visitor_ref>/download/",
        profile_views.visitor_download,
        name="visitor_download",
    ),
    path(
        "visitor/<identifier:visitor_ref>/forget/",
        forget_views.visitor_forget,
        name="visitor_forget",
    ),
    path(
        "visitor/<identifier:visitor_ref>/", profile_views.visitor_profile, name="visitor_profile"
    ),
    path("requests/", forget_views.privacy_requests, name="privacy_requests"),
    path("requests/<int:request_id>/", forget_views.privacy_request, name="privacy_request"),
    path("suppressions/", forget_views.suppressions, name="suppressions"),
    path(
        "suppressions/<int:suppression_id>/lift/",
        forget_views.suppression_lift_view,
        name="suppression_lift",
    ),
    path("settings/", settings_views.store_settings, name="store_settings"),
    path("api-keys/", settings_views.api_keys, name="api_keys"),
    path(
        "api-keys/<int:key_id>/revoke/",
        settings_views.api_key_revoke_view,
        name="api_key_revoke",
    ),
    path("settings/retention/", retention_views.retention_settings, name="retention_settings"),
]
