"""Identifiers that try to escape their URL segment or their log redaction.

Customer ids come from the shop, visitor ids from anyone holding the public key:
any of them may hold path separators, URL syntax, quotes, spaces or unicode.
"""

IDENTIFIER_CORPUS = [
    "john/forget",
    "john/forget/",
    "anna/download",
    "/leading-slash",
    "trailing-slash/",
    "a/b/c",
    "what?next=1",
    "hash#fragment",
    "50%",
    "%2F",
    "%252F",
    "with space",
    "Mueller 4711",
    "O'Brien-4711",
    'say "hi"',
    "john.doe.1985/",
    "Müller-Ünïcødé",
    "😀-visitor",
    "..",
    ".",
    "back\\slash",
    "semi;colon&amp=1",
    "<b>x</b>",
]
