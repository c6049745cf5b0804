from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stores.models import Account
from stores.services import store_create


class Command(BaseCommand):
    help = "Create a store (and its PostgreSQL schema) in an account."

    def add_arguments(self, parser):
        parser.add_argument("account_slug")
        parser.add_argument("store_slug", help="lowercase letters, digits and hyphens")
        parser.add_argument("--name", required=True)
        parser.add_argument("--products", default="", help="comma-separated product codes")
        parser.add_argument("--collect-emails", action="store_true")
        parser.add_argument("--crm-fields", default="", help="comma-separated CRM field names")
        parser.add_argument("--no-browsing", action="store_true", help="do not track browsing")

    def handle(self, *args, account_slug: str, store_slug: str, name: str, **options):
        account = Account.objects.filter(slug=account_slug).first()
        if account is None:
            raise CommandError(f"No account with slug {account_slug!r}.")
        try:
            store = store_create(
                account=account,
                slug=store_slug,
                name=name,
                product_codes=[c for c in options["products"].split(",") if c],
                collect_emails=options["collect_emails"],
                crm_fields=[f for f in options["crm_fields"].split(",") if f],
                track_browsing=not options["no_browsing"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created store {store.slug} (schema {store.schema_name}).")
