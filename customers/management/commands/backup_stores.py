from django.core.management.base import BaseCommand, CommandError

from customers.management.commands.expire_retention import stores_for
from customers.retention.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "pg_dump each store's schema (or one) into BACKUP_DIR and record the backup."

    def add_arguments(self, parser):
        parser.add_argument("--store", help="only this store (slug)")

    def handle(self, *args, store=None, **options):
        for one in stores_for(store):
            try:
                backup = backup_create(store=one)
            except BackupError as exc:
                raise CommandError(str(exc)) from None
            if backup is None:
                self.stdout.write(f"{one.slug}: skipped, a backup of this store is running")
                continue
            self.stdout.write(
                f"{one.slug}: backup {backup.pk}, {backup.size_bytes} bytes, "
                f"sha256 {backup.sha256[:12]}…, expires {backup.expires_at:%Y-%m-%d}"
            )
