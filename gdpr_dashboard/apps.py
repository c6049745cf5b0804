from django.apps import AppConfig


class GdprDashboardConfig(AppConfig):
    name = "gdpr_dashboard"
    verbose_name = "GDPR dashboard and ledger"

    def ready(self) -> None:
        from gdpr_dashboard import receivers  # noqa: F401  (connects the signal receivers)
