from django.apps import AppConfig


class GdprDashboardConfig(AppConfig):
    name = "gdpr_dashboard"
    verbose_name = "GDPR dashboard and ledger"
