"""A real migration for the store schemas that the code does not have: a column and an
index on the clicks table, written the way a migration over many big stores should be
(``atomic = False``, the index built by ``AddIndexConcurrently``).

``next_migration(directory)`` copies ``customers/migrations`` into ``directory``, adds the
migration and points ``MIGRATION_MODULES`` at the copy, so the code's migration state
changes as it does at a deploy; on exit everything is as before. Forked processes (the
``migrate_stores`` pool) inherit it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from stores import schemas

PACKAGE = "clerkgdpr_next_migrations"
COLUMN, INDEX = "campaign", "click_campaign_idx"

MIGRATION = """
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("customers", "{last}")]
    operations = [
        migrations.AddField("click", "{column}", models.CharField(max_length=64, null=True)),
        AddIndexConcurrently("click", models.Index(fields=["{column}"], name="{index}")),
    ]
"""


@contextmanager
def next_migration(directory: Path) -> Iterator[tuple[str, str]]:
    """Yields the new migration's (app, name)."""
    source = Path(settings.BASE_DIR) / "customers" / "migrations"
    target = Path(directory) / PACKAGE
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    last = sorted(p.stem for p in source.glob("0*.py"))[-1]
    name = f"{int(last[:4]) + 1:04d}_click_campaign"
    (target / f"{name}.py").write_text(MIGRATION.format(last=last, column=COLUMN, index=INDEX))
    sys.path.insert(0, str(directory))
    before = dict(getattr(settings, "MIGRATION_MODULES", {}) or {})
    settings.MIGRATION_MODULES = {**before, "customers": PACKAGE}
    schemas.forget_cached_state()
    try:
        yield "customers", name
    finally:
        settings.MIGRATION_MODULES = before
        sys.path.remove(str(directory))
        for module in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[module]
        schemas.forget_cached_state()
