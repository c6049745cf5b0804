"""Values people read: durations in hours and minutes, numbers in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


@register.filter
def duration(seconds) -> str:
    """``47 s``, ``12 min``, ``3 h 12 min``, ``77 h 37 min`` (German ``3 Std. 12 Min.``)."""
    if seconds is None or seconds == "":
        return "–"
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": seconds}
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return _("%(minutes)s min") % {"minutes": minutes}
    if not minutes:
        return _("%(hours)s h") % {"hours": _n(hours)}
    return _("%(hours)s h %(minutes)s min") % {"hours": _n(hours), "minutes": minutes}
