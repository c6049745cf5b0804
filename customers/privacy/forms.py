from django import forms
from django.utils.translation import gettext_lazy as _


class CustomerListFilter(forms.Form):
    """Data › Customers: sort and filters, all optional (bad values fall back to defaults)."""

    SORTS = {"-last_seen": ("-last_seen", "-pk"), "last_seen": ("last_seen", "pk")}

    sort = forms.ChoiceField(
        choices=[
            ("-last_seen", _("Most recently active")),
            ("last_seen", _("Least recently active")),
        ],
        required=False,
    )
    has_email = forms.BooleanField(required=False, label=_("Has e-mail"))
    has_orders = forms.BooleanField(required=False, label=_("Has orders"))

    def ordering(self) -> tuple[str, ...]:
        sort = self.cleaned_data.get("sort") if self.is_valid() else None
        return self.SORTS.get(sort or "-last_seen", self.SORTS["-last_seen"])
