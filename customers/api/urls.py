"""API routes: /v2/... (compatible) and /api/v1/... (django-ninja, OpenAPI)."""

from django.urls import path

from customers.api import v2
from customers.api.v1 import api as v1_api

v2_urlpatterns = [
    path("log/product", v2.log_product, name="v2_log_product"),
    path("log/click", v2.log_click, name="v2_log_click"),
    path("log/category", v2.log_category, name="v2_log_category"),
    path("log/email", v2.log_email, name="v2_log_email"),
    path("log/sale", v2.log_sale, name="v2_log_sale"),
    path("log/sale/shopify", v2.log_sale_shopify, name="v2_log_sale_shopify"),
    path("log/returned", v2.log_returned, name="v2_log_returned"),
    path("log/basket/set", v2.log_basket_set, name="v2_log_basket_set"),
    path("log/debug", v2.log_debug, name="v2_log_debug"),
    path("subscriber/subscribe", v2.subscriber_subscribe, name="v2_subscriber_subscribe"),
    path("subscriber/unsubscribe", v2.subscriber_unsubscribe, name="v2_subscriber_unsubscribe"),
    path("customers", v2.customers, name="v2_customers"),
    path("orders", v2.orders, name="v2_orders"),
    path("products", v2.products, name="v2_products"),
    path("product/add", v2.product_add, name="v2_product_add"),
    path("product/remove", v2.product_remove, name="v2_product_remove"),
    path("privacy/info", v2.privacy_info, name="v2_privacy_info"),
    path("privacy/forget", v2.privacy_forget, name="v2_privacy_forget"),
]
v1_urls = v1_api.urls
