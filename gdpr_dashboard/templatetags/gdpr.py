from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

register = template.Library()

# What the access log says for the actions other pages record; unknown ones show as written.
ACTION_LABELS = {
    "profile.view": _("opened a profile"),
    "profile.download": _("downloaded all data"),
    "search": _("searched; the results showed personal data"),
    "forget.requested": _("asked to forget a person"),
    "forget.done": _("forget carried out"),
    "suppression.lifted": _("lifted a suppression (re-sync allowed again)"),
    "retention_expired": _("retention expiry ran"),
    "store_restored": _("store restored from backup"),
    "backup_created": _("backup taken"),
    "support.access": _("opened a store page under a support grant"),
    "support_grant.create": _("granted support access"),
    "support_grant.revoke": _("revoked support access"),
    "subprocessor.change": _("sub-processor catalogue change announced"),
    "settings.change": _("changed data collection settings"),
}

# The keys of a request's or an expiry run's counts, and the access log's subject kinds.
COUNT_LABELS = {
    "customers": _("customers"),
    "visitors": _("visitors"),
    "page_views": _("page views"),
    "content_views": _("content views"),
    "clicks": _("clicks"),
    "orders": _("orders"),
    "orders_anonymised": _("orders anonymised"),
    "orders_detached": _("orders detached"),
    "events": _("events"),
}
SUBJECT_KINDS = {"customer": _("customer"), "visitor": _("visitor"), "email": _("e-mail")}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").replace(".", " › "))


@register.filter
def counts_text(counts: dict) -> str:
    if not counts:
        return ""
    return ", ".join(
        f"{COUNT_LABELS.get(k, k.replace('_', ' '))} {number_format(v, force_grouping=True)}"
        for k, v in counts.items()
        if v is not None
    )


@register.filter
def subject_kind_label(kind: str) -> str:
    return SUBJECT_KINDS.get(kind, kind)
