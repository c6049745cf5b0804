"""Signals of the tenancy layer.

``support_access_used`` fires whenever platform staff open a store page only
because of a live support grant.  ``stores`` cannot import the audit writer
(imports run customers → gdpr_dashboard → stores), so ``gdpr_dashboard``
listens and writes the access-log row.
"""

from django.dispatch import Signal

# kwargs: request, access (stores.access.StoreAccess with support_grant set)
support_access_used = Signal()
