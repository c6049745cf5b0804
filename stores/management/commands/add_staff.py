import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stores.models import Account, Role
from stores.services import staff_add


class Command(BaseCommand):
    help = (
        "Add a staff member to an account. The password comes from STAFF_PASSWORD, "
        "else it is prompted for (not needed for an existing user)."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_slug")
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=Role.values)

    def handle(self, *args, account_slug: str, email: str, role: str, **options):
        account = Account.objects.filter(slug=account_slug).first()
        if account is None:
            raise CommandError(f"No account with slug {account_slug!r}.")
        password = os.environ.get("STAFF_PASSWORD")
        if password is None and os.isatty(0):
            password = getpass.getpass("Password (empty keeps an existing user's): ") or None
        try:
            membership = staff_add(account=account, email=email, role=role, password=password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{membership.user.email} is {membership.role} of {account.slug}.")
