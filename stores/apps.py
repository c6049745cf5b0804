from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Accounts and stores"

    def ready(self) -> None:
        from clerkgdpr import checks  # noqa: F401 - registers the deployment checks
