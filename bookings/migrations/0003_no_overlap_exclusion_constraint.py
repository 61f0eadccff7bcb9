"""No double booking, by construction, on PostgreSQL.

An exclusion constraint (btree_gist) forbids two live bookings (pending,
confirmed, active) of one resource whose held time [start, blocked_until)
overlaps; blocked_until carries the buffer. SQLite has no GiST: there,
booking_create's check inside an IMMEDIATE transaction serialises writers.
"""

from django.db import migrations

CONSTRAINT = "booking_no_overlap_live"

CREATE = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE bookings_booking ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (resource_id WITH =, tstzrange(start, blocked_until, '[)') WITH &&)
    WHERE (status IN ('pending', 'confirmed', 'active'));
"""
DROP = f"ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT};"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
