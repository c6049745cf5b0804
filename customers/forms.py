from django import forms

from customers import retention


class CustomerListFilter(forms.Form):
    """Data › Customers: sort and filters, all optional (bad values fall back to defaults)."""

    SORTS = {"-last_seen": ("-last_seen", "-pk"), "last_seen": ("last_seen", "pk")}

    sort = forms.ChoiceField(
        choices=[("-last_seen", "Most recently active"), ("last_seen", "Least recently active")],
        required=False,
    )
    has_email = forms.BooleanField(required=False, label="Has e-mail")
    has_orders = forms.BooleanField(required=False, label="Has orders")

    def ordering(self) -> tuple[str, ...]:
        sort = self.cleaned_data.get("sort") if self.is_valid() else None
        return self.SORTS.get(sort or "-last_seen", self.SORTS["-last_seen"])


class RetentionSettingsForm(forms.Form):
    """How long visitor data is kept: the policy picks within these bounds (30..365 days)."""

    min_days = forms.IntegerField(
        label="Keep at least (days)",
        min_value=retention.MIN_DAYS,
        max_value=retention.MAX_DAYS,
        help_text="Even a single short visit is kept this long.",
    )
    max_days = forms.IntegerField(
        label="Keep at most (days)",
        min_value=retention.MIN_DAYS,
        max_value=retention.MAX_DAYS,
        help_text="Even the most regular visitor's data goes after this long.",
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("min_days"), data.get("max_days")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError("The minimum cannot be above the maximum.")
        return data
