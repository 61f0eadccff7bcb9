from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings import timeline, waitlist

        timeline.connect()
        waitlist.connect()  # time_freed → the waitlist's offer task, on commit
