"""The request shapes the platform's public integrations send, as test data.

Read from the plugins' public sources (clerkio/clerk-magento, clerk-magento2,
clerk-woocommerce, clerk-prestashop, clerk-shopware-6.4, clerk-wix, clerk-vtex,
vtex-apps/clerkio-integration, the Shopify web pixel) and from shop front ends
calling Clerk.js (``Clerk('call', ...)`` and ``<span class="clerk" data-api=...>``,
which Clerk.js sends as one GET with ``payload`` + ``callback``). Values keep the
types the sources produce: PHP ints for ids, floats from ``line_total / qty``,
numeric strings from Magento, hex ids from Shopware, ``""`` for "no e-mail".

Each shape: ``path``, ``method``, ``encoding`` (how ``tests/test_api_v2_shapes.py``
puts it on the wire), ``key`` (``public`` or ``private`` = public + private key),
``args`` (without the keys; ``"NOW"`` / ``"NOW+2h"`` become times) and ``stores``
(what must be in the store afterwards: ``(model, filter)`` pairs; ``()`` for the
calls that are answered without storing anything yet).

Encodings:
- ``query``: GET, lists and objects JSON-encoded (Magento 1, WooCommerce, Zend/WP GET);
- ``php-query``: GET, PHP ``http_build_query`` brackets (``products[0]=1``; Magento 2);
- ``payload``: GET ``payload=<JSON of all arguments>&callback=<name>`` (Clerk.js);
- ``json``: POST ``application/json``;
- ``text``: POST JSON as ``text/plain`` (``fetch`` with a string body: the Shopify pixel);
- ``form-json``: POST JSON labelled as form type (PHP curl with a string body, WordPress
  ``wp_remote_request`` without headers);
- ``php-form``: POST form body in bracket form (Magento 2's HTTP client with an array);
- ``get-form-body``: GET whose form body carries the arguments (PrestaShop's
  ``file_get_contents`` with an ``http`` context);
- ``delete-query``: DELETE with every argument in the query string.
"""

from __future__ import annotations

WOO_UNIT_PRICE = 100 / 3  # WooCommerce: line_total / qty = 33.333333333333336

SHAPES: list[dict] = [
    # --- Clerk.js in the storefront (every platform's front end) ---------------------
    {
        "name": "clerkjs-log-product",
        "source": "Clerk.js, Clerk('call', 'log/product', {product}) (Vue storefronts)",
        "path": "/v2/log/product",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {"product": 4711, "visitor": "auto"},
        "stores": (("ContentView", {"product_ref": "4711"}),),
    },
    {
        "name": "clerkjs-log-click",
        "source": "Clerk.js, Clerk('call', 'log/click', {visitor, api, n, labels, product})",
        "path": "/v2/log/click",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {
            "visitor": "auto",
            "api": "search/omni",
            "n": 3,
            "labels": ["Search bar"],
            "product": 812,
        },
        "stores": (("Click", {"product_ref": "812", "position": 3, "api": "search/omni"}),),
    },
    {
        "name": "clerkjs-log-category-int",
        "source": "Clerk.js context on PrestaShop category pages (integer id_category)",
        "path": "/v2/log/category",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {"category": 12, "visitor": "v-cat"},
        "stores": (("PageView", {"category": "12"}),),
    },
    {
        "name": "clerkjs-log-email",
        "source": "Clerk.js log/email (PrestaShop header template, VTEX vtex:userData)",
        "path": "/v2/log/email",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {"email": "Ann@Example.com", "visitor": "v-mail"},
        "stores": (("Customer", {"email": "ann@example.com"}),),
    },
    {
        "name": "woocommerce-log-sale",
        "source": "clerk-woocommerce sales tracking span (int order id, price = total / qty)",
        "path": "/v2/log/sale",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {
            "sale": 1042,
            "email": "ann@example.com",
            "products": [
                {"id": 31, "quantity": 3, "price": WOO_UNIT_PRICE},
                {"id": 32, "quantity": 1, "price": 33.3333},
            ],
            "visitor": "auto",
        },
        "stores": (
            ("Order", {"order_ref": "1042", "email": "ann@example.com"}),
            ("OrderLine", {"product_ref": "31", "price": "33.333333"}),
            ("OrderLine", {"product_ref": "32", "price": "33.3333"}),
        ),
    },
    {
        "name": "shopware-log-sale",
        "source": "clerk-shopware-6.4 checkout finish span (hex product ids, e-mail '' when off)",
        "path": "/v2/log/sale",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {
            "sale": "10023",
            "email": "",
            "products": [
                {"id": "2a88d9b59d474c7e869d8071649be43c", "price": 19.99, "quantity": 2},
            ],
            "visitor": "v-sw",
        },
        "stores": (
            ("Order", {"order_ref": "10023", "email": None}),
            ("OrderLine", {"product_ref": "2a88d9b59d474c7e869d8071649be43c", "quantity": 2}),
        ),
    },
    {
        "name": "vtex-log-sale",
        "source": "vtex-apps/clerkio-integration pixel, vtex:orderPlaced",
        "path": "/v2/log/sale",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {
            "sale": "1340170513245-01",
            "email": "ann@example.com",
            "products": [{"id": "27", "quantity": 1, "price": 149.9}],
        },
        "stores": (("OrderLine", {"product_ref": "27", "price": "149.90"}),),
    },
    {
        "name": "wix-log-basket-set",
        "source": "clerk-wix clerk-basket-tracking element (data-api='log/basket/set')",
        "path": "/v2/log/basket/set",
        "method": "GET",
        "encoding": "payload",
        "key": "public",
        "args": {"products": ["8d3c1f", "77aa02"], "visitor": "auto"},
        "stores": (("Basket", {}),),
    },
    # --- server-side plugin calls -----------------------------------------------------
    {
        "name": "magento2-log-basket-set-get",
        "source": "clerk-magento2 Model/Api::logBasket (GET, http_build_query, both keys)",
        "path": "/v2/log/basket/set",
        "method": "GET",
        "encoding": "php-query",
        "key": "private",
        "args": {"products": [1203, 1207], "email": "ann@example.com"},
        "stores": (("Basket", {}),),
    },
    {
        "name": "magento2-log-basket-set-observer",
        "source": "clerk-magento2 CheckoutCartUpdateItemsAfterObserver (curl string body)",
        "path": "/v2/log/basket/set",
        "method": "POST",
        "encoding": "form-json",
        "key": "public",
        "args": {"products": ["1203"], "email": "ann@example.com"},
        "stores": (("Basket", {}),),
    },
    {
        "name": "woocommerce-log-basket-set",
        "source": "clerk-woocommerce class-clerk-basket (wp_remote_request, no content type)",
        "path": "/v2/log/basket/set",
        "method": "POST",
        "encoding": "form-json",
        "key": "public",
        "args": {"products": [51, 52], "email": "ann@example.com"},
        "stores": (("Basket", {}),),
    },
    {
        "name": "magento1-product-add",
        "source": "clerk-magento Model/Communicator::syncProduct (curl, application/json)",
        "path": "/v2/product/add",
        "method": "POST",
        "encoding": "json",
        "key": "private",
        "args": {
            "products": [
                {
                    "id": 881,
                    "name": "Boot",
                    "price": 79.95,
                    "list_price": 99.95,
                    "url": "https://shop.example/boot.html",
                    "categories": [3, 17],
                    "sku": "B-881",
                }
            ]
        },
        "stores": (("Product", {"product_ref": "881", "price": "79.95"}),),
    },
    {
        "name": "prestashop-product-add",
        "source": "clerk-prestashop Clerk_Api::addProduct (curl string body: form type)",
        "path": "/v2/product/add",
        "method": "POST",
        "encoding": "form-json",
        "key": "private",
        "args": {
            "products": [
                {
                    "id": 19,
                    "name": "Mug",
                    "description": "A mug",
                    "url": "https://shop.example/19-mug.html",
                    "categories": [2, 11],
                    "category_names": ["Home", "Kitchen"],
                    "price": 14.280000000000001,
                    "list_price": 16.8,
                    "on_sale": True,
                    "in_stock": True,
                    "qty": 300,
                }
            ]
        },
        "stores": (("Product", {"product_ref": "19", "price": "14.28"}),),
    },
    {
        "name": "magento2-product-add",
        "source": "clerk-magento2 Model/Api::addProduct (HTTP client post with an array: form)",
        "path": "/v2/product/add",
        "method": "POST",
        "encoding": "php-form",
        "key": "private",
        "args": {
            "products": [
                {
                    "id": "1203",
                    "name": "Jacket",
                    "price": "33.3333",
                    "categories": [4, 9],
                    "url": "https://shop.example/jacket.html",
                }
            ]
        },
        "stores": (("Product", {"product_ref": "1203", "price": "33.3333"}),),
    },
    {
        "name": "woocommerce-products",
        "source": "clerk-woocommerce Clerk_Api::add_product (POST /v2/products, JSON)",
        "path": "/v2/products",
        "method": "POST",
        "encoding": "json",
        "key": "private",
        "args": {"products": [{"id": 64, "name": "Cap", "price": "49.9900", "categories": [15]}]},
        "stores": (("Product", {"product_ref": "64", "price": "49.99"}),),
    },
    {
        "name": "magento1-product-remove",
        "source": "clerk-magento Communicator::removeProduct (GET, products JSON-encoded)",
        "path": "/v2/product/remove",
        "method": "GET",
        "encoding": "query",
        "key": "private",
        "args": {"products": [881]},
        "stores": (),
        "removes": ("881",),
    },
    {
        "name": "prestashop-product-remove",
        "source": "clerk-prestashop Clerk_Api::removeProduct (GET products='19,')",
        "path": "/v2/product/remove",
        "method": "GET",
        "encoding": "query",
        "key": "private",
        "args": {"products": "19,"},
        "stores": (),
        "removes": ("19",),
    },
    {
        "name": "magento2-product-remove",
        "source": "clerk-magento2 Model/Api::removeProduct (GET products[0]=...)",
        "path": "/v2/product/remove",
        "method": "GET",
        "encoding": "php-query",
        "key": "private",
        "args": {"products": [1203]},
        "stores": (),
        "removes": ("1203",),
    },
    {
        "name": "magento2-log-returned",
        "source": "clerk-magento2 Model/Api::returnProduct (GET order, product, quantity)",
        "path": "/v2/log/returned",
        "method": "GET",
        "encoding": "php-query",
        "key": "private",
        "args": {"order": "000000042", "product": "1203", "quantity": 1},
        "stores": (("OrderLine", {"product_ref": "1203", "returned_quantity": 1}),),
        "needs_order": ("000000042", "1203"),
    },
    {
        "name": "shopify-pixel-log-sale",
        "source": "Shopify web pixel, checkout_completed (fetch, mode cors, string body)",
        "path": "/v2/log/sale/shopify",
        "method": "POST",
        "encoding": "text",
        "key": "public",
        "args": {"sale": "5512345678901"},
        "stores": (("Order", {"order_ref": "5512345678901"}),),
    },
    {
        "name": "prestashop-subscriber-unsubscribe",
        "source": "clerk-prestashop unsubscribe controller (GET with a form body)",
        "path": "/v2/subscriber/unsubscribe",
        "method": "GET",
        "encoding": "get-form-body",
        "key": "public",
        "args": {"email": "ann@example.com"},
        "stores": (("Subscriber", {"subscribed": False}),),
    },
    {
        "name": "subscriber-subscribe",
        "source": "the platform's subscriber API as the issue names it (no plugin source read)",
        "path": "/v2/subscriber/subscribe",
        "method": "GET",
        "encoding": "query",
        "key": "public",
        "args": {"email": "ann@example.com"},
        "stores": (("Subscriber", {"subscribed": True}),),
    },
    {
        "name": "plugins-log-debug",
        "source": "the Magento, WooCommerce, PrestaShop loggers (curl string body to log/debug)",
        "path": "/v2/log/debug",
        "method": "POST",
        "encoding": "form-json",
        "key": "public",
        "args": {
            "source": "WooCommerce",
            "time": 1764460800,
            "type": "log",
            "message": "GET request",
            "metadata": {"uri": "https://shop.example/?clerk=1", "params": {"a": "b"}},
        },
        "stores": (),
    },
    {
        "name": "woocommerce-customers-roles",
        "source": "WooCommerce customer records with a list of roles (issue report)",
        "path": "/v2/customers",
        "method": "POST",
        "encoding": "json",
        "key": "private",
        "args": {
            "customers": [{"id": 7, "name": "Ann", "roles": ["customer", "subscriber"], "age": 31}]
        },
        "stores": (
            ("Customer", {"customer_ref": "7", "attributes__roles": ["customer", "subscriber"]}),
        ),
    },
    {
        "name": "shop-orders-local-time",
        "source": "an order sync from a shop two hours east of UTC sending local time as UTC",
        "path": "/v2/orders",
        "method": "POST",
        "encoding": "json",
        "key": "private",
        "args": {
            "orders": [
                {
                    "id": 9001,
                    "customer": 7,
                    "products": [{"id": 31, "quantity": "2.0000", "price": "49.9900"}],
                    "time": "NOW+2h",
                }
            ]
        },
        "stores": (("Order", {"order_ref": "9001", "total": "99.98"}),),
    },
    {
        "name": "customers-delete-query",
        "source": "DELETE /v2/customers with its arguments in the query string",
        "path": "/v2/customers",
        "method": "DELETE",
        "encoding": "delete-query",
        "key": "private",
        "args": {"customers": [7]},
        "stores": (),
    },
]
