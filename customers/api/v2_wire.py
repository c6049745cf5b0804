"""How v2 calls arrive and leave: every encoding the platform's integrations use.

Arguments are read from, in this order (later ones win):

1. the query string, for every method (DELETE arguments included); PHP's
   ``http_build_query`` bracket form (``products[0]=1``, ``products[0][id]=1``)
   becomes lists and objects, and a list or object argument may also be a
   JSON-encoded string (``products=[123,456]``);
2. Clerk.js's ``payload``: one query argument holding the JSON object of all
   arguments (key, ``visitor: "auto"``, ...);
3. the body, whatever its declared type: a JSON object (sent as
   ``application/json``, ``text/plain`` by ``fetch`` without headers, or as
   form type by PHP's curl with a string body), or a real form body (bracket
   form as above). PrestaShop sends a form body with a GET.

Answers are JSON; a GET with ``callback`` on a public-key endpoint answers
JSONP (``application/javascript``). Public-key endpoints answer CORS (any
origin, no credentials); private-key endpoints never do.
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict

from customers.api.errors import ApiError

# Arguments that are lists or objects: a JSON-encoded string is decoded.
JSON_ARGUMENTS = frozenset({"products", "labels", "customers", "orders"})
MAX_DEPTH = 5
# A JavaScript identifier path (``Clerk._cb.c3``), nothing that could close the call.
CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,4}")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


def call_arguments(request: HttpRequest) -> dict:
    args = _from_pairs(request.GET.lists())
    payload = args.pop("payload", None)
    args.pop("callback", None)
    if payload is not None:
        args.update(_json_object(payload, "payload"))
    if request.body:
        args.update(_body(request))
    for name in JSON_ARGUMENTS & args.keys():
        args[name] = _maybe_json(name, args[name])
    return args


def callback_name(request: HttpRequest) -> str | None:
    """The JSONP callback of a GET, checked; None for a plain JSON answer."""
    if request.method != "GET" or "callback" not in request.GET:
        return None
    name = request.GET["callback"]
    if not CALLBACK.fullmatch(name):
        raise ApiError(400, "InvalidArgument", "callback: must be a JavaScript function name.")
    return name


def jsonp(callback: str, body: bytes) -> HttpResponse:
    # The comment keeps a callback from being read as the start of another file type.
    content = b"/**/" + callback.encode() + b"(" + body + b");"
    return HttpResponse(content, content_type="application/javascript; charset=utf-8")


def add_cors(response: HttpResponse) -> HttpResponse:
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


def preflight() -> HttpResponse:
    return add_cors(HttpResponse(status=204))


def _json_object(text: str, name: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, "InvalidJSON", f"{name}: must be a JSON object.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "InvalidJSON", f"{name}: must be a JSON object.")
    return value


def _maybe_json(name: str, value):
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, "InvalidJSON", f"{name}: must be a JSON-encoded list.") from None
    return value


def _body(request: HttpRequest) -> dict:
    try:
        text = request.body.decode()
    except UnicodeDecodeError:
        raise ApiError(400, "InvalidJSON", "The body is not valid UTF-8.") from None
    text = text.lstrip("\ufeff \t\r\n")
    content_type = request.content_type or ""
    if text.startswith("{") or content_type == "application/json":
        return _json_object(text, "The body")
    if content_type in ("application/x-www-form-urlencoded", "") and "=" in text:
        try:
            return _from_pairs(QueryDict(text).lists())
        except TooManyFieldsSent:
            raise ApiError(400, "InvalidArgument", "Too many form fields.") from None
    raise ApiError(400, "InvalidJSON", "The body must be one JSON object.")


def _from_pairs(pairs) -> dict:
    """Query or form pairs as arguments, PHP's bracket form as lists and objects."""
    args: dict = {}
    for raw_name, values in pairs:
        name, path = _split(raw_name)
        for value in values:
            if not path:
                args[name] = value
            else:
                _place(args, [name, *path], value)
    return {k: _listify(v) for k, v in args.items()}


def _split(raw: str) -> tuple[str, list[str]]:
    if "[" not in raw or not raw.endswith("]"):
        return raw, []
    name, _, rest = raw.partition("[")
    path = rest[:-1].split("][")
    if not name or len(path) > MAX_DEPTH or any("[" in p or "]" in p for p in path):
        return raw, []
    return name, path


def _place(args: dict, path: list[str], value: str) -> None:
    node = args
    for i, part in enumerate(path[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        if path[i + 1] == "":  # "a[]": append
            path[i + 1] = str(len(child))
        node = child
    last = path[-1] if path[-1] != "" else str(len(node))
    node[last] = value


def _listify(value):
    if isinstance(value, dict):
        value = {k: _listify(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value
