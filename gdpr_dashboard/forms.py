from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from gdpr_dashboard.services import SUPPORT_GRANT_MAX_HOURS
from stores.models import Store, User


class PlainSelect(forms.Select):
    """A select built in Python: Django's renders every option through a template, 90 ms
    for the thousand stores of a big account."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        chosen = {str(value)} if value not in (None, "") else set()
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), options)


class SupportGrantForm(forms.Form):
    """An account owner lets a named platform staff member into one store for a while."""

    store = forms.TypedChoiceField(coerce=int, label=_("Store"), widget=PlainSelect)
    staff_email = forms.EmailField(
        label=_("Platform staff member's e-mail"),
        help_text=_("The support agent named in your support case."),
    )
    reason = forms.CharField(max_length=500, widget=forms.TextInput, label=_("Reason"))
    hours = forms.IntegerField(
        min_value=1, max_value=SUPPORT_GRANT_MAX_HOURS, initial=4, label=_("For how many hours")
    )

    def __init__(self, *args, stores: list[Store], **kwargs):
        # A list, not a queryset: the dashboard already holds the stores (no extra query).
        super().__init__(*args, **kwargs)
        self._stores = {s.pk: s for s in stores}
        self.fields["store"].choices = [(s.pk, s.name) for s in stores]

    def clean_store(self) -> Store:
        return self._stores[self.cleaned_data["store"]]

    def clean_staff_email(self) -> User:
        email = self.cleaned_data["staff_email"].strip().lower()
        user = User.objects.filter(email=email, is_staff=True, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No platform staff member has this e-mail address."))
        return user
