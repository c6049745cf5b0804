"""Public-schema tenancy: accounts, stores (tenants), staff and their access."""

from __future__ import annotations

import secrets
from contextlib import nullcontext

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from stores import schemas
from stores.roles import Capability, Role, role_can

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$",
    "Use 3-40 lowercase letters, digits and hyphens, starting with a letter.",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """Console user; logs in with e-mail. ``is_staff`` marks platform staff."""

    username = None
    email = models.EmailField("e-mail address", unique=True)
    # The console's language (one of settings.LANGUAGES); empty: the browser's.
    language = models.CharField(max_length=8, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class Account(models.Model):
    slug = models.SlugField(max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlatformProduct(models.Model):
    """A platform feature a store uses; decides which sub-processors touch its data."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def new_store_secret() -> str:
    return secrets.token_hex(32)


class Store(TenantMixin):
    """A django-tenants tenant: all of its shoppers' data lives in its own schema."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="stores")
    slug = models.SlugField(max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=200)
    products = models.ManyToManyField(PlatformProduct, blank=True, related_name="stores")
    # Data collection: what the store allows us to keep.
    collect_emails = models.BooleanField(default=False)
    crm_fields = models.JSONField(
        default=list, blank=True, help_text="Allowed CRM attribute names."
    )
    track_browsing = models.BooleanField(default=True)
    # Retention bounds for visitor data, in days (the policy picks within them).
    retention_min_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(30), MaxValueValidator(365)]
    )
    retention_max_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(30), MaxValueValidator(365)]
    )
    # Key for HMAC digests of identifiers in the public schema; never shown or logged.
    secret = models.CharField(max_length=64, default=new_store_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Digest of the migration state the schema is known to be at (stores.schemas):
    # ``migrate_stores`` finds stores to migrate by this column in one query.
    schema_state = models.CharField(max_length=64, blank=True, default="", editable=False)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["account__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retention_min_days__lte=models.F("retention_max_days")),
                name="store_retention_bounds_ordered",
            ),
            # DESIGN.md: visitor data is kept 1 to 12 months, whatever the store sets.
            models.CheckConstraint(
                condition=models.Q(retention_min_days__gte=30, retention_max_days__lte=365),
                name="store_retention_bounds_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def delete(self, force_drop=False, *args, **kwargs):
        """The search directory's entries of the schema go with the schema, in one
        transaction (a drop that fails leaves both)."""
        from stores import directory

        dropping = force_drop or self.auto_drop_schema
        entries = directory.schema_dropped(self.schema_name) if dropping else nullcontext()
        with transaction.atomic(), entries:
            return super().delete(force_drop, *args, **kwargs)

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """The schema from the current migration state's cached DDL (``stores.schemas``)."""
        if sync_schema and schemas.store_schema_create(store=self):
            return True
        # No template at hand inside a transaction: every migration, then the state noted.
        created = super().create_schema(check_if_exists, sync_schema, verbosity)
        if sync_schema:
            self.schema_state = schemas.migration_state()[0]
            Store.objects.filter(pk=self.pk).update(schema_state=self.schema_state)
        return created


class SchemaTemplate(models.Model):
    """The DDL of a store schema at one migration state, made once and replayed per store."""

    state = models.CharField(max_length=64, unique=True)
    migrations = models.JSONField(help_text="[app, name] rows of django_migrations, in order.")
    ddl = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"schema template {self.state[:12]}"


class SpareSchema(models.Model):
    """A store schema made ahead of time from the template at ``state``, waiting for a store."""

    schema_name = models.CharField(max_length=63, unique=True)
    state = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)


class SubjectDigest(models.Model):
    """A store schema holds a customer or visitor with this identifier digest.

    The account-wide search's directory: one indexed lookup names the stores that hold an
    exact e-mail, customer id or visitor id. Digests only (each made with its store's own
    secret, so the same e-mail gives unrelated digests in two stores), keyed by the
    schema's OID (what a trigger knows without a lookup; it stays when a spare schema is
    renamed into a store). Kept by triggers in every store schema (``customers``
    migration 0010), on one server only; see ``stores/directory.py``.
    """

    pk = models.CompositePrimaryKey("schema_oid", "digest")
    digest = models.BinaryField()
    schema_oid = models.BigIntegerField()


class Domain(DomainMixin):
    """Required by django-tenants; stores are routed by path (/s/<slug>/), not host."""


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    # Empty means every store of the account.
    stores = models.ManyToManyField(Store, blank=True, related_name="limited_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="membership_unique_user_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.account} ({self.role})"

    def can(self, capability: Capability) -> bool:
        """What the role allows (``stores.access.can`` also checks the store limit)."""
        return role_can(self.role, capability)

    @property
    def reads_personal_data(self) -> bool:
        return self.can(Capability.READ_PERSONAL_DATA)

    @property
    def manages_support_access(self) -> bool:
        return self.can(Capability.MANAGE_SUPPORT_ACCESS)


class ApiKey(models.Model):
    """A store's API key pair; the private key is stored only as a hash."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=64, unique=True)
    private_key_hash = models.CharField(max_length=128)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.store.slug}:{self.key[:8]}…"


class SupportGrant(models.Model):
    """Time-boxed, reasoned access of one platform staff member to one store's shopper data."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="support_grants")
    staff_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="support_grants")
    reason = models.CharField(max_length=500)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["staff_user", "store", "expires_at"])]


class StoreNotice(models.Model):
    """A notice shown on the store's pages, e.g. that the store was restored from a backup."""

    class Kind(models.TextChoices):
        RESTORE = "restore", _("Restored from backup")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="storenotice_recent_idx")]

    def __str__(self) -> str:
        return self.message


class AuditEvent(models.Model):
    """Who did what: profile views, downloads, forgets, settings changes, staff access."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="audit_events")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    actor_is_platform_staff = models.BooleanField(default=False)
    action = models.CharField(max_length=50)
    subject_kind = models.CharField(max_length=10, blank=True)
    subject_row_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Written from every layer, so the class lives at the bottom (stores); its table,
        # migrations and admin pages are the GDPR dashboard's, where the log is read.
        app_label = "gdpr_dashboard"
        indexes = [models.Index(fields=["account", "-created_at"], name="audit_account_recent_idx")]
