"""Public-schema records about privacy: the ledger, suppression, audit, inventory, backups.

Nothing here holds a shopper's identifier: only keyed digests (HMAC-SHA256
with the store's secret) and row ids of store-schema rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from stores.models import ApiKey, PlatformProduct, Store


class SubProcessor(models.Model):
    name = models.CharField(max_length=200)
    legal_entity = models.CharField(max_length=300)
    purpose = models.CharField(max_length=500)
    country = models.CharField(max_length=100)
    data_categories = models.JSONField(default=list, blank=True)
    # Empty: used by every store (hosting, backups). Otherwise: used by stores with these products.
    products = models.ManyToManyField(PlatformProduct, blank=True, related_name="subprocessors")
    used_by_all = models.BooleanField(default=False)
    added_on = models.DateField()
    removed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SubProcessorChange(models.Model):
    subprocessor = models.ForeignKey(SubProcessor, on_delete=models.CASCADE, related_name="changes")
    changed_on = models.DateField()
    description = models.CharField(max_length=500)

    class Meta:
        ordering = ["-changed_on", "-id"]


class RequestKind(models.TextChoices):
    FORGET = "forget", _("Forget")
    INFO = "info", _("Info")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RequestVia(models.TextChoices):
    UI = "ui", _("Console")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    REPLAY = "replay", _("Replayed after restore")


class PrivacyRequest(models.Model):
    """The ledger: one row per forget or info request, kept as legal documentation."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="privacy_requests")
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    via = models.CharField(max_length=10, choices=RequestVia.choices)
    subject_kind = models.CharField(max_length=10)  # email | customer | visitor
    email_digest = models.CharField(max_length=64, blank=True, db_index=True)
    customer_digest = models.CharField(max_length=64, blank=True, db_index=True)
    visitor_digests = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["store", "-received_at"], name="privreq_store_recent_idx"),
            models.Index(fields=["status", "received_at"], name="privreq_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request #{self.pk} ({self.status})"


class Suppression(models.Model):
    """A forgotten subject's identifier digest: blocks re-sync of data older than the forget."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="suppressions")
    identifier_kind = models.CharField(max_length=10)  # email | customer | visitor
    digest = models.CharField(max_length=64)
    forgotten_at = models.DateTimeField()
    request = models.ForeignKey(PrivacyRequest, null=True, on_delete=models.SET_NULL)
    blocked_count = models.PositiveBigIntegerField(default=0)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "identifier_kind", "digest"], name="suppression_unique_digest"
            )
        ]


class InventorySnapshot(models.Model):
    """Per store: which data types it holds, with counts. Tasks refresh it, the dashboard reads."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="inventory")
    counts = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField()


class Backup(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="backups")
    path = models.CharField(max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    purged_at = models.DateTimeField(null=True, blank=True)


class RetentionRun(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="retention_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict)
