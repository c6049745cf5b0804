from django.urls import path

from gdpr_dashboard import views

urlpatterns = [
    path("a/<slug:account_slug>/gdpr/", views.dashboard, name="account_gdpr"),
    path("a/<slug:account_slug>/gdpr/print/", views.dashboard_print, name="account_gdpr_print"),
    path("a/<slug:account_slug>/gdpr/dpa/", views.dpa, name="account_gdpr_dpa"),
    path(
        "a/<slug:account_slug>/gdpr/support-grants/",
        views.support_grant_create,
        name="account_support_grant_create",
    ),
    path(
        "a/<slug:account_slug>/gdpr/support-grants/<int:grant_id>/revoke/",
        views.support_grant_revoke,
        name="account_support_grant_revoke",
    ),
    path("trust/", views.trust, name="trust"),
]
