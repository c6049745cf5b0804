"""Every string people read is translated: English, German, Danish.

The scanner reads each template's text outside ``{% translate %}`` / ``{% blocktranslate %}``
(and outside comments, ``<code>`` and the brand) and fails on any word left there, and on
text in ``placeholder``, ``title``, ``aria-label`` and ``alt`` attributes.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.template.base import Lexer, TokenType
from django.utils import translation

BASE = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [
    BASE / "templates",
    *(BASE / app / "templates" for app in ("stores", "customers", "gdpr_dashboard")),
]
TEMPLATES = sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))
LANGUAGES = ("de", "da")

WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
# Literal text that is not language: markup, code, the brand.
LITERAL = [
    re.compile(r"<code[^>]*>.*?</code>", re.S),
    re.compile(r'<a class="brand".*?</a>', re.S),
    re.compile(r"<!doctype html>", re.I),
    re.compile(r"\bclerkgdpr\b"),
    re.compile(r"&[a-z]+;"),
]
ATTRIBUTE_TEXT = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')


def untranslated_text(source: str) -> list[str]:
    """Words in the template's text nodes that no translation tag covers."""
    found, depth = [], 0
    chunks: list[str] = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in ("blocktranslate", "blocktrans", "comment"):
                depth += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                depth -= 1
            chunks.append("\x00")  # a tag separates text
        elif token.token_type == TokenType.VAR:
            chunks.append(" \x01 " if depth == 0 else "")
        elif token.token_type == TokenType.TEXT and depth == 0:
            chunks.append(token.contents)
    text = "".join(chunks)
    for attribute in ATTRIBUTE_TEXT.findall(text):
        found += [f'attribute "{attribute}"'] if WORD.search(attribute) else []
    for pattern in LITERAL:
        text = pattern.sub(" ", text)
    text = re.sub(r"<[^>]*>", " ", text)  # markup (attribute values included)
    for piece in re.split(r"[\x00\n]", text):
        if WORD.search(piece):
            found.append(piece.strip())
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(BASE)))
def test_it_marks_every_template_string_for_translation(path):
    assert untranslated_text(path.read_text()) == []


def test_the_scanner_finds_an_unmarked_string():
    assert untranslated_text("<p>Hello {{ name }}</p>") == ["Hello  \x01"]
    assert untranslated_text('<input placeholder="Search">') == ['attribute "Search"']
    assert untranslated_text("<p>{% translate 'Hello' %} <code>key</code></p>") == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language):
    catalogue = polib.pofile(str(BASE / "locale" / language / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in catalogue if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(language):
    """``make install`` compiles the .mo files; a stale one would show old texts."""
    folder = BASE / "locale" / language / "LC_MESSAGES"
    compiled = (folder / "django.mo").read_bytes()
    assert compiled == polib.pofile(str(folder / "django.po")).to_binary()


def test_german_reads_numbers_with_dots():
    from django.template import Context, Template

    with translation.override("de"):
        assert Template("{{ n }}").render(Context({"n": 1234567})) == "1.234.567"
    with translation.override("en"):
        assert Template("{{ n }}").render(Context({"n": 1234567})) == "1,234,567"
