"""Writes of the dashboard: support grants and sub-processor catalogue changes.

Each function owns its transaction and writes the audit event; e-mails go out
on commit, so a rolled-back change never notifies anybody.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from gdpr_dashboard.models import SubProcessor, SubProcessorChange
from stores.audit import audit_record
from stores.models import Account, Membership, Role, Store, SupportGrant, User

SUPPORT_GRANT_MAX_HOURS = 24


def support_grant_create(
    *, store: Store, staff_user: User, reason: str, hours: int, granted_by: User
) -> SupportGrant:
    """Let one platform staff member read one store's shopper data for at most 24 hours.

    ``granted_by`` is the account owner, or a platform staff member (then the
    reason is what the account sees on its dashboard).
    """
    reason = reason.strip()
    if not staff_user.is_staff or not staff_user.is_active:
        raise ValidationError(_("Support access can only be granted to platform staff."))
    if not reason:
        raise ValidationError(_("A support grant needs a reason."))
    if not 1 <= hours <= SUPPORT_GRANT_MAX_HOURS:
        raise ValidationError(
            _("A support grant lasts 1 to %(hours)s hours.") % {"hours": SUPPORT_GRANT_MAX_HOURS}
        )
    with transaction.atomic():
        grant = SupportGrant.objects.create(
            store=store,
            staff_user=staff_user,
            reason=reason,
            granted_by=granted_by,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        audit_record(
            action="support_grant.create",
            store=store,
            actor=granted_by,
            detail={
                "grant": grant.pk,
                "staff": staff_user.email,
                "reason": reason,
                "hours": hours,
            },
        )
    return grant


def support_grant_revoke(*, grant: SupportGrant, actor: User) -> SupportGrant:
    with transaction.atomic():
        grant = (
            SupportGrant.objects.select_for_update()
            .select_related("store__account")
            .get(pk=grant.pk)
        )
        if grant.revoked_at is None:
            grant.revoked_at = timezone.now()
            grant.save(update_fields=["revoked_at"])
            audit_record(
                action="support_grant.revoke",
                store=grant.store,
                actor=actor,
                detail={"grant": grant.pk, "staff": grant.staff_user.email},
            )
    return grant


def accounts_using(subprocessor: SubProcessor) -> list[Account]:
    """Accounts whose stores' data this sub-processor processes."""
    if subprocessor.used_by_all:
        return list(Account.objects.filter(stores__isnull=False).distinct())
    return list(Account.objects.filter(stores__products__subprocessors=subprocessor).distinct())


def subprocessor_change_announce(
    *, subprocessor: SubProcessor, description: str, changed_on: date, actor: User | None
) -> SubProcessorChange:
    """Record a catalogue change and e-mail the owners of every account it affects.

    ``changed_on`` is when the change takes effect; processors announce
    changes in advance, so a future date is the normal case.
    """
    description = description.strip()
    if not description:
        raise ValidationError("Describe the change.")
    with transaction.atomic():
        change = SubProcessorChange.objects.create(
            subprocessor=subprocessor, changed_on=changed_on, description=description
        )
        accounts = accounts_using(subprocessor)
        for account in accounts:
            audit_record(
                action="subprocessor.change",
                account=account,
                actor=actor,
                detail={"subprocessor": subprocessor.name, "change": change.pk},
            )
        transaction.on_commit(lambda: _notify_owners(change, accounts))
    return change


def _notify_owners(change: SubProcessorChange, accounts: list[Account]) -> int:
    """One e-mail per account and language: each owner reads it in the console's language."""
    owners = Membership.objects.filter(
        Q(account__in=accounts), role=Role.OWNER, user__is_active=True
    ).select_related("user", "account")
    recipients: dict[tuple[int, str], list[str]] = {}
    for m in owners:
        language = m.user.language or settings.LANGUAGE_CODE
        recipients.setdefault((m.account_id, language), []).append(m.user.email)
    messages = []
    for account in accounts:
        for (account_id, language), emails in sorted(recipients.items()):
            if account_id == account.pk:
                with translation.override(language):
                    subject, body = _change_mail(change, account)
                messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, emails))
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def _change_mail(change: SubProcessorChange, account: Account) -> tuple[str, str]:
    sp = change.subprocessor
    values = {
        "account": account.name,
        "name": sp.name,
        "entity": sp.legal_entity,
        "country": sp.country,
        "purpose": sp.purpose,
        "change": change.description,
        "date": formats.date_format(change.changed_on, "DATE_FORMAT"),
        "dashboard": reverse("account_gdpr", args=[account.slug]),
    }
    body = _(
        "Hello,\n\nwe are changing a sub-processor that processes data of %(account)s's "
        "stores.\n\n"
        "Sub-processor: %(name)s (%(entity)s)\n"
        "Country: %(country)s\n"
        "Purpose: %(purpose)s\n"
        "Change: %(change)s\n"
        "Takes effect on: %(date)s\n\n"
        "Your GDPR dashboard lists every sub-processor your stores use: %(dashboard)s\n"
        "If you object to this change, reply to this e-mail before it takes effect.\n"
    )
    subject = _("[%(account)s] Sub-processor change: %(name)s")
    return subject % values, body % values
