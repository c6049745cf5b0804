"""Audit rows for events the lower layer (``stores``) announces by signal."""

from __future__ import annotations

from django.dispatch import receiver

from gdpr_dashboard.audit import audit_record
from stores.signals import support_access_used


@receiver(support_access_used, dispatch_uid="gdpr_dashboard.support_access_used")
def record_support_access(sender, *, request, access, **kwargs) -> None:
    # The URL name, not the path: a profile path holds an e-mail or visitor id,
    # and the public schema keeps no identifiers.
    match = getattr(request, "resolver_match", None)
    audit_record(
        action="support.access",
        store=access.store,
        actor=request.user,
        detail={
            "page": match.view_name if match else "",
            "method": request.method,
            "grant": access.support_grant.pk,
            "reason": access.support_grant.reason,
        },
    )
