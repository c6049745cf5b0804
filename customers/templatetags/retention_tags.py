"""``{{ visitor|retention_why:store }}``: the retention policy's sentence for one visitor row."""

from django import template

from customers.selectors import visitor_retention

register = template.Library()


@register.filter
def retention_why(visitor, store) -> str:
    return visitor_retention(store=store, visitor=visitor).why
