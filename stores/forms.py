"""The store list's filter (``/?q=``), also asked by the header's store menu."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class StoreFilterForm(forms.Form):
    # CharField refuses NUL characters and strips the ends; inner runs of spaces collapse.
    q = forms.CharField(max_length=100, required=False, label=_("Find a store"))

    def clean_q(self) -> str:
        query = " ".join(self.cleaned_data["q"].split())
        if any(ord(c) < 32 or ord(c) == 127 for c in query):
            raise forms.ValidationError(_("The search contains control characters."))
        return query
