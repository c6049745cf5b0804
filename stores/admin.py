from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from stores.models import (
    Account,
    ApiKey,
    Domain,
    Membership,
    PlatformProduct,
    Store,
    StoreNotice,
    SupportGrant,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "last_login"]
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


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "account", "collect_emails", "track_browsing", "created_at"]
    list_filter = ["collect_emails", "track_browsing", "products"]
    search_fields = ["name", "slug", "account__name"]
    readonly_fields = ["created_at"]
    filter_horizontal = ["products"]


@admin.register(PlatformProduct)
class PlatformProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role"]
    list_filter = ["role"]
    search_fields = ["user__email", "account__name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["store", "label", "key", "created_at", "revoked_at", "last_used_at"]
    readonly_fields = ["key", "private_key_hash", "created_at", "last_used_at"]
    list_filter = ["revoked_at"]


@admin.register(SupportGrant)
class SupportGrantAdmin(admin.ModelAdmin):
    list_display = ["store", "staff_user", "reason", "expires_at", "revoked_at"]


@admin.register(StoreNotice)
class StoreNoticeAdmin(admin.ModelAdmin):
    list_display = ("store", "kind", "message", "created_at")
    list_filter = ("kind",)
    readonly_fields = ("store", "kind", "message", "detail", "created_at")
