import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from customers.demo import Volume, seed_store
from customers.inventory import inventory_refresh
from customers.models import Customer
from stores.models import Account, Membership, Role, Store, User
from stores.services import account_create, staff_add, store_create

DEMO_PASSWORD = "demo-password"
ACCOUNTS = [
    (
        "demo-retail",
        "Demo Retail",
        [
            # slug, name, products, collect e-mails, CRM fields, track browsing
            (
                "nordic-outdoor",
                "Nordic Outdoor",
                ["search", "recommendations", "email", "audience"],
                True,
                ["age", "gender", "city"],
                True,
            ),
            ("urban-shoes", "Urban Shoes", ["search", "recommendations"], True, [], True),
            ("tea-house", "Tea House", ["search"], False, [], True),
        ],
    ),
    (
        "other-brand",
        "Other Brand",
        [
            (
                "kitchen-world",
                "Kitchen World",
                ["search", "recommendations", "chat"],
                True,
                ["city"],
                True,
            ),
        ],
    ),
]
STAFF = [
    ("demo-retail", "owner@demo.example", Role.OWNER),
    ("demo-retail", "admin@demo.example", Role.ADMIN),
    ("demo-retail", "analyst@demo.example", Role.ANALYST),
    ("demo-retail", "viewer@demo.example", Role.VIEWER),
    ("other-brand", "owner@other.example", Role.OWNER),
]


class Command(BaseCommand):
    help = "Create the demo accounts, stores and staff, and fill empty stores with demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="multiplies the default volume (2,000 customers, 5,000 visitors, "
            "200,000 events, 10,000 orders per store)",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="random seed (deterministic output)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if any account exists already"
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="stores seeded at once, each in its own process (output is the same)",
        )

    def handle(self, *args, scale: float, seed: int, if_empty: bool, jobs: int, **options):
        if scale <= 0 or scale > 100:
            raise CommandError("--scale must be greater than 0 and at most 100.")
        if if_empty and Account.objects.exists():
            self.stdout.write("Database already has data; not seeding.")
            return
        volume = Volume().scaled(scale)
        started = time.monotonic()
        empty = []
        for account_slug, account_name, stores in ACCOUNTS:
            account = Account.objects.filter(slug=account_slug).first() or account_create(
                slug=account_slug, name=account_name
            )
            for slug, name, products, emails, crm, browsing in stores:
                store = Store.objects.filter(slug=slug).first() or store_create(
                    account=account,
                    slug=slug,
                    name=name,
                    product_codes=products,
                    collect_emails=emails,
                    crm_fields=crm,
                    track_browsing=browsing,
                )
                connection.set_tenant(store)
                has_data = Customer.objects.exists()
                connection.set_schema_to_public()
                if has_data:
                    self.stdout.write(f"  {slug}: has data, skipped")
                else:
                    empty.append(store)
        for store, counts in zip(empty, self._seed_all(empty, volume, seed, jobs), strict=True):
            inventory_refresh(store=store)  # the GDPR dashboard's checks, right away
            self.stdout.write(
                f"  {store.slug}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
        for account_slug, email, role in STAFF:
            if not Membership.objects.filter(
                user__email=email, account__slug=account_slug
            ).exists():
                staff_add(
                    account=Account.objects.get(slug=account_slug),
                    email=email,
                    role=role,
                    password=DEMO_PASSWORD,
                )
        if not User.objects.filter(email="staff@platform.example").exists():
            User.objects.create_superuser(email="staff@platform.example", password=DEMO_PASSWORD)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {time.monotonic() - started:.1f}s. "
                f"Log in as owner@demo.example / {DEMO_PASSWORD}"
            )
        )

    def _seed_all(self, stores: list[Store], volume: Volume, seed: int, jobs: int) -> list[dict]:
        # Inside a transaction (tests) other processes would not see the stores.
        if jobs <= 1 or len(stores) <= 1 or connection.in_atomic_block:
            return [seed_store(store, volume=volume, seed=seed) for store in stores]
        # Each process opens its own database connection; none may be inherited.
        connections.close_all()
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("fork")
        ) as pool:
            return list(
                pool.map(
                    _seed_one, [s.pk for s in stores], [volume] * len(stores), [seed] * len(stores)
                )
            )


def _seed_one(store_id: int, volume: Volume, seed: int) -> dict:
    connections.close_all()
    store = Store.objects.get(pk=store_id)
    try:
        return seed_store(store, volume=volume, seed=seed)
    finally:
        connections.close_all()
