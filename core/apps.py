from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Slotbot core"

    def ready(self):
        # Every process (web, bot, worker, beat) sets Django up once: Sentry starts here.
        from core.sentry import init_sentry

        init_sentry()
