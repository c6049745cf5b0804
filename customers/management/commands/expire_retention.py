from django.core.management.base import BaseCommand, CommandError

from customers.management.commands._progress import ProgressBar
from customers.retention.expiry import retention_expire
from stores.models import Store


def stores_for(slug: str | None):
    stores = Store.objects.exclude(schema_name="public").select_related("account").order_by("pk")
    if slug:
        stores = stores.filter(slug=slug)
        if not stores:
            raise CommandError(f"No store {slug!r}.")
    return list(stores)


class Command(BaseCommand):
    help = "Delete visitor data past its retention date (what the nightly task does)."

    def add_arguments(self, parser):
        parser.add_argument("--store", help="only this store (slug)")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
        )

    def handle(self, *args, store=None, dry_run=False, **options):
        for one in stores_for(store):
            bar = ProgressBar(self.stderr._out) if not dry_run else None
            counts = retention_expire(store=one, dry_run=dry_run, progress=bar)
            if bar:
                bar.close()
            if counts.get("skipped"):
                self.stdout.write(f"{one.slug}: skipped, an expiry of this store is running")
                continue
            verb = "would delete" if dry_run else "deleted"
            parts = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "duration_seconds")
            self.stdout.write(f"{one.slug}: {verb} {parts} ({counts['duration_seconds']} s)")
