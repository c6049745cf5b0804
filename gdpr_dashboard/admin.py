"""Django admin for platform staff: sub-processor catalogue, ledger, audit, backups, grants.

The ledger, audit log, suppressions, inventory and backup records are
read-only here: they are legal documentation written by services.  Digests
are not shown (they are not identifiers, but nobody needs them on a screen).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from gdpr_dashboard import services
from gdpr_dashboard.models import (
    Backup,
    InventorySnapshot,
    PrivacyRequest,
    RetentionRun,
    SubProcessor,
    SubProcessorChange,
    Suppression,
)
from stores.models import AuditEvent, SupportGrant


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- sub-processors ---------------------------------------------------------------------


class SubProcessorChangeInline(admin.TabularInline):
    model = SubProcessorChange
    extra = 0
    fields = ["changed_on", "description"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # announced through the form below, which e-mails the owners


class SubProcessorForm(forms.ModelForm):
    announcement = forms.CharField(
        required=False,
        max_length=500,
        help_text="What changes, as the account owners will read it. Left empty: the "
        "changed fields are listed.",
    )
    takes_effect_on = forms.DateField(
        required=False,
        help_text="When the change takes effect (announce in advance). Empty: today.",
    )

    class Meta:
        model = SubProcessor
        fields = [
            "name",
            "legal_entity",
            "purpose",
            "country",
            "data_categories",
            "used_by_all",
            "products",
            "added_on",
            "removed_on",
        ]


@admin.register(SubProcessor)
class SubProcessorAdmin(admin.ModelAdmin):
    form = SubProcessorForm
    list_display = ["name", "legal_entity", "country", "used_by_all", "added_on", "removed_on"]
    list_filter = ["used_by_all", "products", "country", ("removed_on", admin.EmptyFieldListFilter)]
    search_fields = ["name", "legal_entity", "purpose", "country"]
    filter_horizontal = ["products"]
    inlines = [SubProcessorChangeInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "legal_entity",
                    "purpose",
                    "country",
                    "data_categories",
                    "used_by_all",
                    "products",
                    "added_on",
                    "removed_on",
                ]
            },
        ),
        ("Announcement to affected accounts", {"fields": ["announcement", "takes_effect_on"]}),
    ]

    def save_model(self, request, obj: SubProcessor, form, change: bool) -> None:
        # Compare with the stored row, not form.changed_data (which reports JSON
        # fields as changed when only their formatting differs).
        obj._before = _catalogue_fields(SubProcessor.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # products are saved now
        sp: SubProcessor = form.instance
        after = _catalogue_fields(sp)
        changed = [f for f, value in after.items() if sp._before.get(f) != value]
        announcement = form.cleaned_data.get("announcement")
        if change and not changed and not announcement:
            return
        if announcement:
            description = announcement
        elif not change:
            description = f"Added: {sp.purpose}."
        elif sp.removed_on:
            description = f"Removed as of {sp.removed_on:%d %b %Y}."
        else:
            labels = [str(SubProcessor._meta.get_field(f).verbose_name) for f in changed]
            description = "Changed: " + ", ".join(labels) + "."
        changed_on = form.cleaned_data.get("takes_effect_on") or (
            sp.added_on if not change else timezone.localdate()
        )
        change_row = services.subprocessor_change_announce(
            subprocessor=sp, description=description, changed_on=changed_on, actor=request.user
        )
        messages.info(
            request,
            f"Announced to the owners of {len(services.accounts_using(sp))} account(s): "
            f"{change_row.description}",
        )


def _catalogue_fields(sp: SubProcessor) -> dict:
    values = {
        f: getattr(sp, f)
        for f in [
            "name",
            "legal_entity",
            "purpose",
            "country",
            "data_categories",
            "used_by_all",
            "removed_on",
        ]
    }
    values["products"] = sorted(sp.products.values_list("code", flat=True))
    return values


@admin.register(SubProcessorChange)
class SubProcessorChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_on", "subprocessor", "description"]
    list_filter = ["subprocessor"]
    list_select_related = ["subprocessor"]
    date_hierarchy = "changed_on"


# --- ledger, audit, suppression, inventory, backups: read-only ----------------------------


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "store",
        "kind",
        "subject_kind",
        "status",
        "via",
        "received_at",
        "done_at",
        "attempts",
    ]
    list_filter = ["status", "kind", "via", "subject_kind", "store__account"]
    list_select_related = ["store"]
    search_fields = ["=id", "store__slug", "store__account__name"]
    date_hierarchy = "received_at"
    exclude = ["email_digest", "customer_digest", "visitor_digests"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "store",
        "actor",
        "actor_is_platform_staff",
        "action",
        "subject_kind",
        "subject_row_id",
    ]
    list_filter = ["actor_is_platform_staff", "action", "account"]
    list_select_related = ["account", "store", "actor"]
    search_fields = ["action", "actor__email", "account__name", "store__slug"]
    date_hierarchy = "created_at"


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ["store", "identifier_kind", "forgotten_at", "blocked_count", "lifted_at"]
    list_filter = ["identifier_kind", ("lifted_at", admin.EmptyFieldListFilter), "store__account"]
    list_select_related = ["store"]
    search_fields = ["store__slug"]
    exclude = ["digest"]


@admin.register(InventorySnapshot)
class InventorySnapshotAdmin(ReadOnlyAdmin):
    list_display = ["store", "refreshed_at", "counts"]
    list_select_related = ["store"]
    search_fields = ["store__slug"]


@admin.register(Backup)
class BackupAdmin(ReadOnlyAdmin):
    list_display = ["store", "created_at", "expires_at", "size_bytes", "purged_at"]
    list_filter = [("purged_at", admin.EmptyFieldListFilter), "store__account"]
    list_select_related = ["store"]
    search_fields = ["store__slug", "sha256"]
    date_hierarchy = "created_at"


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["store", "started_at", "finished_at", "dry_run", "counts"]
    list_filter = ["dry_run", "store__account"]
    list_select_related = ["store"]
    search_fields = ["store__slug"]


# --- support grants ----------------------------------------------------------------------


@admin.register(SupportGrant)
class SupportGrantAdmin(ReadOnlyAdmin):
    """Read-only: only the account's owner grants access to its shoppers (on the dashboard).

    Platform staff, superusers included, see every grant and may revoke one (access only
    ever shrinks here); they can neither add a grant nor change one.
    """

    list_display = [
        "store",
        "staff_user",
        "reason",
        "granted_by",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "store__account"]
    list_select_related = ["store", "staff_user", "granted_by"]
    search_fields = ["store__slug", "staff_user__email", "reason"]
    readonly_fields = list_display
    fields = list_display
    actions = ["revoke"]

    @admin.action(description="Revoke the selected grants")
    def revoke(self, request, queryset) -> None:
        for grant in queryset.filter(revoked_at__isnull=True):
            services.support_grant_revoke(grant=grant, actor=request.user)
        messages.success(request, "Revoked.")
