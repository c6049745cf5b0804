from django import forms
from django.utils.translation import gettext_lazy as _

from customers.retention import policy


class RetentionSettingsForm(forms.Form):
    """How long visitor data is kept: the policy picks within these bounds (30..365 days)."""

    min_days = forms.IntegerField(
        label=_("Keep at least (days)"),
        min_value=policy.MIN_DAYS,
        max_value=policy.MAX_DAYS,
        help_text=_("Even a single short visit is kept this long."),
    )
    max_days = forms.IntegerField(
        label=_("Keep at most (days)"),
        min_value=policy.MIN_DAYS,
        max_value=policy.MAX_DAYS,
        help_text=_("Even the most regular visitor's data goes after this long."),
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("min_days"), data.get("max_days")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("The minimum cannot be above the maximum."))
        return data
