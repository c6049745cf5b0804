"""manage.py forget <store-slug> --email X | --customer X | --visitor X [--wait]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from customers.privacy.forget import COUNT_KINDS
from customers.privacy.forget_requests import ForgetError, forget_request_create
from customers.privacy.subjects import InvalidIdentifier
from gdpr_dashboard.models import PrivacyRequest, RequestStatus, RequestVia
from stores.models import Store


class Command(BaseCommand):
    help = (
        "Forget a person in one store (the same job as the console's Forget button). "
        "Prints the request id; with --wait, the counts once the job is done."
    )

    def add_arguments(self, parser):
        parser.add_argument("store", help="store slug")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--customer", help="the shop's customer id")
        who.add_argument("--visitor", help="visitor id")
        parser.add_argument(
            "--wait", action="store_true", help="wait for the job (needs a running worker)"
        )
        parser.add_argument(
            "--timeout", type=float, default=120.0, help="seconds to wait with --wait"
        )

    def handle(self, *args, store: str, wait: bool, timeout: float, **options):
        found = Store.objects.select_related("account").filter(slug=store).first()
        if found is None:
            raise CommandError(f"No store with slug {store!r}.")
        kind = next(k for k in ("email", "customer", "visitor") if options.get(k) is not None)
        try:
            request = forget_request_create(
                store=found, kind=kind, value=options[kind], via=RequestVia.CLI
            )
        except (InvalidIdentifier, ForgetError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"request {request.pk}")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while True:
            request = PrivacyRequest.objects.get(pk=request.pk)
            if request.status == RequestStatus.DONE:
                break
            if request.status == RequestStatus.FAILED:
                raise CommandError(f"Request {request.pk} failed: {request.error}")
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Request {request.pk} is still {request.status} after {timeout:.0f}s "
                    "(is a worker running on the 'forget' queue?). It stays in the ledger "
                    "and will complete once a worker picks it up."
                )
            time.sleep(0.25)
        self.stdout.write(
            "done: "
            + ", ".join(f"{k.replace('_', ' ')} {request.counts.get(k, 0)}" for k in COUNT_KINDS)
        )
