"""Forms of the store's settings pages: what they accept; the services change the store."""

from __future__ import annotations

import re

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from stores.models import Store

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
                _(
                    "Use lowercase letters, digits and underscores for attribute names "
                    "(starting with a letter, at most 64)."
                )
            )
        if len(value) > 50:
            raise forms.ValidationError(_("At most 50 CRM attributes."))


class StoreSettingsForm(forms.ModelForm):
    crm_fields = CrmFieldsField(
        required=False,
        label=_("CRM attributes kept"),
        help_text=format_lazy(
            _(
                "Comma-separated, e.g. {examples}. Every other attribute a shop sends is "
                "dropped before it is stored."
            ),
            examples=", ".join(COMMON_CRM_FIELDS[:4]),
        ),
    )

    class Meta:
        model = Store
        fields = ["track_browsing", "collect_emails", "crm_fields"]
        labels = {
            "track_browsing": _(
                "Track browsing (page views, product views, clicks, visitor histories)"
            ),
            "collect_emails": _("Collect e-mail addresses"),
        }


class ApiKeyForm(forms.Form):
    """A new key's label: the model's length, no NUL (Django's CharField refuses it)."""

    label = forms.CharField(max_length=100, required=False, strip=True)
