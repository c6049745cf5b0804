"""Template helpers of the console frame."""

from django import template
from django.urls import reverse

from stores.models import Account

register = template.Library()


@register.simple_tag
def gdpr_url(account: Account) -> str:
    """The account's GDPR dashboard."""
    return reverse("account_gdpr", args=[account.slug])


@register.filter
def subject_identifier(row) -> str:
    """What a customer's profile address names it by: the customer id, else the e-mail.

    The profile reads an identifier with an @ as an e-mail, so a customer id with
    an @ in it is used only when there is no e-mail to name the customer by.
    """
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name, None)
    ref, email = get("customer_ref"), get("email")
    if ref and ("@" not in ref or not email):
        return ref
    return email or ""


def _section_query(request, section, number) -> str:
    params = request.GET.copy()
    params.pop("section", None)
    params[section.param] = str(number)
    return params.urlencode()


@register.simple_tag(takes_context=True)
def section_page_href(context, section, number) -> str:
    """Plain link to a page of one profile list (JavaScript off): the whole page, scrolled there."""
    return f"?{_section_query(context['request'], section, number)}#section-{section.name}"


@register.simple_tag(takes_context=True)
def section_page_hx(context, section, number) -> str:
    """The same page of that list as a fragment, swapped in place by htmx."""
    return f"?{_section_query(context['request'], section, number)}&section={section.name}"
