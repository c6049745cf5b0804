"""manage.py migrate_stores [--workers N] [--verify] [--store SLUG ...] [--dry-run]

Migrates only the store schemas that lack migrations (found in one query on the public
schema, see stores/schema_migrations.py), in parallel; a failed store is reported and
the others go on; run it again to resume. Run ``migrate_schemas --shared`` first.
"""

from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand, CommandError

from stores.schema_migrations import stores_lacking, stores_migrate, stores_verify


class Command(BaseCommand):
    help = "Migrate the store schemas that lack migrations, in parallel (resumable)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=min(4, os.cpu_count() or 1), help="processes"
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="read every schema's django_migrations instead of the noted states",
        )
        parser.add_argument("--store", action="append", dest="slugs", help="only this store")
        parser.add_argument("--dry-run", action="store_true", help="list, migrate nothing")
        parser.add_argument(
            "--lock-timeout", default="5s", help="per store: give up waiting for a lock after"
        )

    def handle(self, *args, workers, verify, slugs, dry_run, lock_timeout, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        started = time.perf_counter()
        lacking = (stores_verify if verify else stores_lacking)(slugs=slugs)
        verbosity = options["verbosity"]
        self.stdout.write(
            f"{len(lacking)} store(s) lack migrations "
            f"(found in {time.perf_counter() - started:.2f} s)."
        )
        if dry_run or not lacking:
            for item in lacking:
                what = (
                    "unknown"
                    if item.missing is None
                    else ", ".join(f"{app}.{name}" for app, name in item.missing)
                )
                self.stdout.write(f"  {item.slug}: {what}")
            return

        def progress(slug: str, error: str | None) -> None:
            if error:
                self.stderr.write(f"  {slug}: FAILED {error}")
            elif verbosity >= 2:
                self.stdout.write(f"  {slug}: migrated")

        result = stores_migrate(
            lacking=lacking, workers=workers, lock_timeout=lock_timeout, progress=progress
        )
        self.stdout.write(
            f"Migrated {len(result.done)} store(s), {len(result.failed)} failed, "
            f"in {time.perf_counter() - started:.1f} s."
        )
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} store(s) failed: {', '.join(sorted(result.failed))}. "
                "Run migrate_stores again to retry them."
            )
