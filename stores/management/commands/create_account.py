from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stores.services import account_create


class Command(BaseCommand):
    help = "Create a merchant account."

    def add_arguments(self, parser):
        parser.add_argument("account_slug", help="lowercase letters, digits and hyphens")
        parser.add_argument("--name", required=True, help="the account's display name")

    def handle(self, *args, account_slug: str, name: str, **options):
        try:
            account = account_create(slug=account_slug, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created account {account.slug} ({account.name}).")
