from django.core.management.base import BaseCommand, CommandError

from customers.retention.restore import RestoreError, restore_store
from gdpr_dashboard.models import Backup
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Replace a store's data with a backup: every forget made since the backup is "
        "replayed into the restored copy, which is swapped in only if all of it succeeds."
    )

    def add_arguments(self, parser):
        parser.add_argument("store_slug")
        parser.add_argument("backup_id", type=int)

    def handle(self, *args, store_slug, backup_id, **options):
        store = Store.objects.select_related("account").filter(slug=store_slug).first()
        if store is None:
            raise CommandError(f"No store {store_slug!r}.")
        backup = Backup.objects.filter(pk=backup_id, store=store).first()
        if backup is None:
            raise CommandError(f"No backup {backup_id} of store {store_slug!r}.")
        try:
            result = restore_store(store=store, backup=backup)
        except RestoreError as exc:
            raise CommandError(f"Restore failed, the live store is unchanged: {exc}") from None
        self.stdout.write(result["message"])
