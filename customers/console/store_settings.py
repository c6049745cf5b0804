"""A store's collection settings: the form and the service that changes them.

The form is a plain ModelForm on Store; more settings (retention bounds) are
added by listing their fields in ``Meta.fields`` and, if they need checks,
a ``clean_<field>``. The service records exactly what changed in the audit log.
"""

from __future__ import annotations

import re

from django import forms
from django.db import transaction

from stores.audit import audit_record
from stores.models import Store, User

# CRM attributes the platform's integrations commonly send; others can be typed in.
COMMON_CRM_FIELDS = ["age", "gender", "zip", "city", "country", "birthday", "language"]
CRM_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class CrmFieldsField(forms.CharField):
    """Comma-separated attribute names <-> a sorted list."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        names = {n.strip().lower() for n in (value or "").split(",") if n.strip()}
        return sorted(names)

    def validate(self, value):
        bad = [n for n in value if not CRM_FIELD_NAME.match(n)]
        if bad:
            raise forms.ValidationError(
                "Use lowercase letters, digits and underscores for attribute names "
                "(starting with a letter, at most 64)."
            )
        if len(value) > 50:
            raise forms.ValidationError("At most 50 CRM attributes.")


class StoreSettingsForm(forms.ModelForm):
    crm_fields = CrmFieldsField(
        required=False,
        label="CRM attributes kept",
        help_text="Comma-separated, e.g. "
        + ", ".join(COMMON_CRM_FIELDS[:4])
        + ". Every other attribute a shop sends is dropped before it is stored.",
    )

    class Meta:
        model = Store
        fields = ["track_browsing", "collect_emails", "crm_fields"]
        labels = {
            "track_browsing": (
                "Track browsing (page views, product views, clicks, visitor histories)"
            ),
            "collect_emails": "Collect e-mail addresses",
        }


def store_settings_update(*, store: Store, form: StoreSettingsForm, actor: User) -> list[str]:
    """Save a valid settings form; audit the changed fields (old and new values)."""
    changed = list(form.changed_data)
    if not changed:
        return []
    before = Store.objects.filter(pk=store.pk).values(*changed).get()
    with transaction.atomic():
        form.save()
        audit_record(
            action="store.settings_change",
            store=store,
            actor=actor,
            detail={
                "changed": {
                    name: {"from": before[name], "to": form.cleaned_data[name]} for name in changed
                }
            },
        )
    return changed
