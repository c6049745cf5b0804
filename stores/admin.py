"""Django admin for platform staff: tenancy, staff and keys.

No shopper data is reachable from here: store-schema models are not
registered, and the public models hold no identifiers.  Support grants are
administered in ``gdpr_dashboard.admin`` (they write audit events).
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count

from stores.models import (
    Account,
    ApiKey,
    Domain,
    Membership,
    PlatformProduct,
    Store,
    StoreNotice,
    User,
)
from stores.services import store_create


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    filter_horizontal = ["stores"]


class StoreInline(admin.TabularInline):
    model = Store
    extra = 0
    fields = ["name", "slug", "schema_name", "collect_emails", "track_browsing"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a store needs its schema: add it from the Stores page


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "store_count", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at"]
    inlines = [StoreInline, MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_stores=Count("stores", distinct=True))

    @admin.display(description="Stores", ordering="_stores")
    def store_count(self, obj: Account) -> int:
        return obj._stores


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "account",
        "schema_name",
        "collect_emails",
        "track_browsing",
        "created_at",
    ]
    list_filter = ["collect_emails", "track_browsing", "products", "account"]
    list_select_related = ["account"]
    search_fields = ["name", "slug", "account__name", "schema_name"]
    filter_horizontal = ["products"]
    add_fields = [
        "account",
        "slug",
        "name",
        "products",
        "collect_emails",
        "crm_fields",
        "track_browsing",
        "retention_min_days",
        "retention_max_days",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return [*self.add_fields, "schema_name", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The schema is named after the slug when the store is created; renaming
        # either would orphan the store's data.
        return [] if obj is None else ["account", "slug", "schema_name", "created_at"]

    def save_model(self, request, obj: Store, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Creating a store creates and migrates its schema: the same service as the CLI.
        store = store_create(
            account=obj.account,
            slug=obj.slug,
            name=obj.name,
            product_codes=[p.code for p in form.cleaned_data["products"]],
            collect_emails=obj.collect_emails,
            crm_fields=obj.crm_fields or [],
            track_browsing=obj.track_browsing,
            actor=request.user,
        )
        Store.objects.filter(pk=store.pk).update(
            retention_min_days=obj.retention_min_days, retention_max_days=obj.retention_max_days
        )
        # Point the admin's object (and its m2m save) at the row the service made.
        obj.pk = store.pk
        obj.schema_name = store.schema_name
        obj.secret = store.secret
        obj.created_at = store.created_at
        obj._state.adding = False
        messages.info(request, f"Created schema {store.schema_name}.")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting a store drops its schema and the ledger protects it anyway.
        return False


@admin.register(PlatformProduct)
class PlatformProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "description"]
    search_fields = ["name", "code"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_filter = ["is_primary"]
    list_select_related = ["tenant"]
    search_fields = ["domain", "tenant__slug"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account"]
    list_select_related = ["user", "account"]
    search_fields = ["user__email", "account__name"]
    autocomplete_fields = ["user", "account"]
    filter_horizontal = ["stores"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Only the public key and the private key's hash exist; keys are made in the console."""

    list_display = ["store", "label", "key", "created_at", "revoked_at", "last_used_at"]
    list_select_related = ["store"]
    fields = [
        "store",
        "label",
        "key",
        "private_key_hash",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = [
        "store",
        "key",
        "private_key_hash",
        "created_by",
        "created_at",
        "last_used_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "label", "store__slug"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StoreNotice)
class StoreNoticeAdmin(admin.ModelAdmin):
    list_display = ("store", "kind", "message", "created_at")
    list_filter = ("kind",)
    readonly_fields = ("store", "kind", "message", "detail", "created_at")
