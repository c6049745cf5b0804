from django import template

register = template.Library()

# What the access log says for the actions other pages record; unknown ones show as written.
ACTION_LABELS = {
    "profile.view": "opened a profile",
    "profile.download": "downloaded all data",
    "search": "searched; the results showed personal data",
    "forget.requested": "asked to forget a person",
    "forget.done": "forget carried out",
    "suppression.lifted": "lifted a suppression (re-sync allowed again)",
    "retention_expired": "retention expiry ran",
    "store_restored": "store restored from backup",
    "backup_created": "backup taken",
    "support.access": "opened a store page under a support grant",
    "support_grant.create": "granted support access",
    "support_grant.revoke": "revoked support access",
    "subprocessor.change": "sub-processor catalogue change announced",
    "settings.change": "changed data collection settings",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").replace(".", " › "))


@register.filter
def counts_text(counts: dict) -> str:
    if not counts:
        return ""
    return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items() if v is not None)
