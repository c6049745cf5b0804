"""Every URL pattern the resolver knows, with real arguments filled in.

Used by the access and CSRF walks (tests/test_security_urls.py): they take
the URL list from ``get_resolver()``, so a page another branch adds later is
walked without anybody editing a list of paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class WalkedUrl:
    key: str  # "namespace:name", or the route for an unnamed pattern
    route: str  # the pattern as written, prefixes included
    kwargs: tuple[str, ...]  # names of the arguments the route takes
    callback: object

    @property
    def namespace(self) -> str:
        return self.key.split(":", 1)[0] if ":" in self.key else ""


def url_patterns() -> Iterator[WalkedUrl]:
    yield from _walk(get_resolver().url_patterns, "", None)


def _walk(patterns, prefix: str, namespace: str | None) -> Iterator[WalkedUrl]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, route, ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            key = (f"{namespace}:{name}" if namespace else name) if name else route
            yield WalkedUrl(
                key=key,
                route=route,
                kwargs=tuple(_argument_names(route)),
                callback=pattern.callback,
            )


_PATH_ARG = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _argument_names(route: str) -> list[str]:
    names = [m.group("name") for m in _PATH_ARG.finditer(_strip_regex_groups(route)[0])]
    return names + _strip_regex_groups(route)[1]


def _strip_regex_groups(route: str) -> tuple[str, list[str]]:
    """Replace each ``(?P<name>...)`` group (nesting allowed) by ``{name}``; list the names."""
    out, names, i = [], [], 0
    while i < len(route):
        if route.startswith("(?P<", i):
            end_name = route.index(">", i)
            name = route[i + 4 : end_name]
            depth, j = 1, end_name + 1
            while depth:
                if route[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(route[j], 0)
                j += 1
            out.append("{" + name + "}")
            names.append(name)
            i = j
        else:
            out.append(route[i])
            i += 1
    return "".join(out), names


def build_path(url: WalkedUrl, values: dict[str, str]) -> str:
    """The route with every argument replaced by ``values[name]`` (KeyError names a gap)."""
    text, _ = _strip_regex_groups(url.route)
    text = _PATH_ARG.sub(lambda m: values[m.group("name")], text)
    text = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)
    # Regex anchors and escapes inside included regex routes.
    text = text.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + text
