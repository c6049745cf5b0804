from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from customers import converters  # noqa: F401 (registers <identifier:...>)
from customers.api.urls import v1_urls, v2_urlpatterns
from customers.console import search_views
from customers.privacy import profile_views
from stores import views as store_views

# A database error outside a view becomes 503 + Retry-After too (clerkgdpr.middleware).
handler500 = "clerkgdpr.middleware.server_error"
# The product pages, also with DEBUG on (see clerkgdpr/error_pages.py).
handler404 = "clerkgdpr.error_pages.page_not_found"
handler403 = "clerkgdpr.error_pages.permission_denied"

urlpatterns = [
    # The store API first: tracking calls are most of the traffic, and each pattern tried
    # before a match costs a little.
    path("v2/", include(v2_urlpatterns)),
    path("api/v1/", v1_urls),
    path("", store_views.home, name="home"),
    path("healthz", store_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", store_views.language_set, name="set_language"),
    path("s/<slug:store_slug>/", include("customers.urls")),
    # GDPR dashboard (/a/<account>/gdpr/...) and the public trust page (/trust/).
    path("", include("gdpr_dashboard.urls")),
    path("admin/", admin.site.urls),
    # The top search and the help article's /store/... addresses.
    path("search", search_views.search, name="search"),
    path(
        "store/customer/<identifier:identifier>",
        profile_views.current_store_customer,
        name="store_customer",
    ),
    path(
        "store/visitor/<identifier:visitor_ref>",
        profile_views.current_store_visitor,
        name="store_visitor",
    ),
    # The same addresses with a trailing slash, as bookmarks often have them.
    path(
        "store/customer/<identifier:identifier>/",
        profile_views.current_store_customer,
        name="store_customer",
    ),
    path(
        "store/visitor/<identifier:visitor_ref>/",
        profile_views.current_store_visitor,
        name="store_visitor",
    ),
]
