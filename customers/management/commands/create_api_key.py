import json

from django.core.management.base import BaseCommand, CommandError

from customers.api.keys import api_key_create
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Issue an API key pair for a store and print it as one JSON object "
        '{"store", "key", "private_key"}. The private key is shown only this once.'
    )

    def add_arguments(self, parser):
        parser.add_argument("store_slug")
        parser.add_argument("--label", default="", help="what the key is for (max 100 chars)")

    def handle(self, *args, store_slug: str, label: str, **options):
        store = Store.objects.filter(slug=store_slug).first()
        if store is None:
            raise CommandError(f"No store with slug {store_slug!r}.")
        issued = api_key_create(store=store, label=label or "command line")
        self.stdout.write(json.dumps(issued.as_dict()))
