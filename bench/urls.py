"""The product's URLs plus ``/bench/floor``: the cheapest Django view that writes a row.

It sets the floor of this stack (gunicorn, the middleware, one PostgreSQL INSERT) that
a tracking call is compared with. Mounted only by bench/settings.py.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from clerkgdpr.urls import handler500  # noqa: F401
from clerkgdpr.urls import urlpatterns as product_urlpatterns

FLOOR_TABLE = "bench_floor"


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO public.{FLOOR_TABLE} (n, at) VALUES (%s, now())",
            [request.GET.get("n", "0")[:18] or "0"],
        )
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


urlpatterns = [path("bench/floor", floor), *product_urlpatterns]
