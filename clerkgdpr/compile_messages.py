"""Compile the translation catalogues (locale/*/LC_MESSAGES/django.po → .mo) without gettext.

Run by ``make install`` (and so by ``make run`` and ``make test``): the .po files are
committed, the .mo files are built here with polib, so no machine needs GNU gettext.
``python -m clerkgdpr.compile_messages [--check]``: ``--check`` only reports stale files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def stale(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    return not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime


def main(argv: list[str]) -> int:
    catalogues = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
    if "--check" in argv:
        old = [str(p) for p in catalogues if stale(p)]
        print("\n".join(old) or "all compiled")
        return 1 if old else 0
    for po_path in catalogues:
        polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"compiled {po_path.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
