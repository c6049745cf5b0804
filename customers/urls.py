"""Console pages of one store, mounted under /s/<store_slug>/."""

from django.urls import path

from customers import (
    converters,  # noqa: F401 (registers <identifier:...>)
    profile_views,
    views,
)

urlpatterns = [
    path("", views.store_home, name="store_home"),
    # Staff console (issue 3). Downloads first: the identifier may contain slashes.
    path("customers/", profile_views.customer_list, name="customer_list"),
    path(
        "customer/<identifier:identifier>/download/",
        profile_views.customer_download,
        name="customer_download",
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
        "visitor/<identifier:visitor_ref>/", profile_views.visitor_profile, name="visitor_profile"
    ),
]
