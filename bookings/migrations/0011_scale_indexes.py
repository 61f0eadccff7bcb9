"""Availability first at institution scale (issue 13): the live bookings that meet a time range,
whatever their resource, through one GiST index over their held time.

The exclusion constraint's index (resource_id, tstzrange) answers "this resource" fast but a search
by the range alone walks most of it; this index answers "every resource at once"
(availability.FREE_RESOURCES_SQL). Its predicate is the live statuses of the exclusion constraint
(0007): a migration that adds a live status recreates both. PostgreSQL only (SQLite has no GiST).
"""

from django.db import migrations

INDEX = "booking_live_held_range"
LIVE = ("pending", "confirmed", "active", "overdue")

CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX} ON bookings_booking
    USING gist (tstzrange(start, blocked_until, '[)'))
    WHERE (status IN ({", ".join(f"'{s}'" for s in LIVE)}));
"""
DROP = f"DROP INDEX IF EXISTS {INDEX};"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0010_calendar_feeds")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
