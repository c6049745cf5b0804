"""Console pages of one store, mounted under /s/<store_slug>/."""

from django.urls import path

from customers import forget_views, views

urlpatterns = [
    path("", views.store_home, name="store_home"),
    # Forget (issue 4)
    path("customer/<str:ident>/forget/", forget_views.customer_forget, name="customer_forget"),
    path("visitor/<str:visitor_ref>/forget/", forget_views.visitor_forget, name="visitor_forget"),
    path("requests/", forget_views.privacy_requests, name="privacy_requests"),
    path("requests/<int:request_id>/", forget_views.privacy_request, name="privacy_request"),
    path("suppressions/", forget_views.suppressions, name="suppressions"),
    path(
        "suppressions/<int:suppression_id>/lift/",
        forget_views.suppression_lift_view,
        name="suppression_lift",
    ),
]
