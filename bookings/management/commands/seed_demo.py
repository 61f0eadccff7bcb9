"""manage.py seed_demo: a small demo catalogue with varied rules; safe to run twice.

Demo resources allow short bookings on a 5-minute grid with no notice, so a
newcomer sees a booking go active, complete or expire within minutes.
Each has Russian and English aliases, so the help's examples work in both
languages (`/book проектор завтра 14:00 2ч`).
"""

from datetime import time, timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from bookings import feeds, services
from bookings.models import AccessRule, Closure, OpeningHours, Pool, QuotaRule, Resource, ResourceKind
from bookings.rules import local_midnight, today_in
from core.deeplinks import BotUsernameUnknown, bot_username, resource_deep_link

WEEKDAYS = range(5)
EVERY_DAY = range(7)

DEMO = [
    {
        "name": "Projector Epson EB-W06",
        "aliases": ["проектор", "beamer", "Epson"],
        "kind": ResourceKind.EQUIPMENT,
        "category": "AV",
        "location": "Media desk, room 101",
        "description": "Portable projector with HDMI and VGA; carry case and remote included.",
        "rules": dict(
            slot_minutes=5,
            min_duration_minutes=5,
            max_duration_minutes=240,
            requires_check_in=True,
            check_in_opens_minutes=15,
            check_in_grace_minutes=5,
        ),
        "hours": None,
    },
    {
        "name": "Camera Sony A7 III",
        "aliases": ["камера", "фотоаппарат", "photo camera"],
        "kind": ResourceKind.EQUIPMENT,
        "category": "Photo",
        "location": "Media desk, room 101",
        "description": "Full-frame camera with a 28-70 mm lens and two batteries.",
        "rules": dict(
            slot_minutes=5,
            min_duration_minutes=5,
            max_duration_minutes=480,
            requires_approval=True,
            buffer_minutes=5,
            max_advance_days=14,
        ),
        "hours": None,
    },
    {
        "name": "Laptop cart (30 laptops)",
        "aliases": ["ноутбуки", "тележка с ноутбуками", "notebooks"],
        "kind": ResourceKind.EQUIPMENT,
        "category": "IT",
        "location": "IT office, room 12",
        "description": "Charging cart with 30 school laptops.",
        "rules": dict(
            slot_minutes=15, min_duration_minutes=15, max_duration_minutes=180, buffer_minutes=15, min_notice_minutes=60
        ),
        "hours": (WEEKDAYS, [(time(7, 30), time(17, 0))]),
    },
    {
        "name": "Meeting room Orion",
        "aliases": ["переговорная", "переговорная Орион", "Орион", "conference room"],
        "kind": ResourceKind.SPACE,
        "category": "Rooms",
        "location": "2nd floor",
        "description": "8 seats, screen and whiteboard.",
        "rules": dict(slot_minutes=5, min_duration_minutes=5, max_duration_minutes=120),
        "hours": None,
    },
    {
        "name": "Lab bench 1",
        "aliases": ["лабораторный стол", "лаборатория", "fume hood"],
        "kind": ResourceKind.SPACE,
        "category": "Lab",
        "location": "Chemistry lab, room 204",
        "description": "Fume hood, gas and water. Safety briefing required.",
        "rules": dict(
            slot_minutes=30,
            min_duration_minutes=60,
            max_duration_minutes=240,
            requires_approval=True,
            requires_check_in=True,
            check_in_grace_minutes=15,
            buffer_minutes=30,
            max_advance_days=21,
        ),
        "hours": (WEEKDAYS, [(time(8, 0), time(12, 0)), (time(13, 0), time(18, 0))]),
    },
    {
        "name": "Auditorium",
        "aliases": ["актовый зал", "аудитория", "hall"],
        "kind": ResourceKind.SPACE,
        "category": "Rooms",
        "location": "Ground floor",
        "description": "120 seats, stage, sound system.",
        "rules": dict(
            slot_minutes=30,
            min_duration_minutes=60,
            max_duration_minutes=480,
            requires_approval=True,
            min_notice_minutes=24 * 60,
            max_advance_days=90,
        ),
        "hours": (EVERY_DAY, [(time(8, 0), time(22, 0))]),
    },
]


class Command(BaseCommand):
    help = "Create or update the demo catalogue (safe to run more than once)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for item in DEMO:
            resource, was_created = Resource.objects.update_or_create(
                name=item["name"],
                defaults={
                    "kind": item["kind"],
                    "category": item["category"],
                    "location": item["location"],
                    "description": item["description"],
                    "is_active": True,
                    **item["rules"],
                },
            )
            created += was_created
            services.resource_aliases_set(resource=resource, aliases=item["aliases"])
            resource.opening_hours.all().delete()
            if item["hours"]:
                days, intervals = item["hours"]
                OpeningHours.objects.bulk_create(
                    OpeningHours(resource=resource, weekday=day, opens=opens, closes=closes)
                    for day in days
                    for opens, closes in intervals
                )
        seed_policies()
        seed_pools()
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue: {len(DEMO)} resources ({created} new)."))
        self.print_deep_links()
        self.seed_public_feed()

    def seed_public_feed(self):
        """The demo's room display: Orion's public calendar feed is on (its link stays the same run to run)."""
        room = Resource.objects.filter(name="Meeting room Orion").first()
        if room is not None:
            feeds.resource_public_feed_set(resource=room, enabled=True)
            self.stdout.write(f"Public calendar feed of {room.name}: {feeds.resource_feed_url(resource=room)}")

    def print_deep_links(self):
        """Each resource's sticker link (what its QR code holds), to try /start r<id> by hand."""
        try:
            username = bot_username()
        except BotUsernameUnknown:
            username = None
            self.stdout.write("Deep links (bot username unknown: set TELEGRAM_BOT_USERNAME or start the sandbox):")
        else:
            self.stdout.write("Deep links (QR stickers: admin → Resources → Print QR stickers):")
        for resource in Resource.objects.order_by("name"):
            link = resource_deep_link(resource_id=resource.pk, username=username or "<bot username>")
            self.stdout.write(f"  {resource.name}: {link}")


def seed_policies():
    """The demo's institution policies (bookings.policies), idempotent like the catalogue:
    a Laser cutter open only to the group Trained makers, at most 2 live bookings per user of
    the camera, at most 4 hours a week per user on the rooms, and a maintenance day next month."""
    makers, _ = Group.objects.get_or_create(name="Trained makers")
    cutter, _ = Resource.objects.update_or_create(
        name="Laser cutter",
        defaults={
            "kind": ResourceKind.EQUIPMENT,
            "category": "Workshop",
            "location": "Maker space",
            "description": "CO2 laser, 60x40 cm. Trained makers only: ask for access.",
            "is_active": True,
            "slot_minutes": 15,
            "min_duration_minutes": 15,
            "max_duration_minutes": 120,
        },
    )
    services.resource_aliases_set(resource=cutter, aliases=["лазерный резак", "лазер", "laser engraver"])
    AccessRule.objects.get_or_create(resource=cutter, group=makers)
    camera = Resource.objects.filter(name="Camera Sony A7 III").first()
    if camera:
        QuotaRule.objects.update_or_create(resource=camera, kind="live", defaults={"period": "", "limit": 2})
    QuotaRule.objects.update_or_create(
        category="Rooms", resource=None, group=None, kind="hours", defaults={"period": "week", "limit": 4}
    )
    room = Resource.objects.filter(name="Meeting room Orion").first()
    if room:
        today = today_in()
        day = (today.replace(day=1) + timedelta(days=32)).replace(day=10)  # the 10th of next month
        Closure.objects.update_or_create(
            resource=room,
            reason_kind="maintenance",
            reason="Demo: projector replacement",
            defaults={"start": local_midnight(day), "end": local_midnight(day + timedelta(days=1))},
        )


def seed_pools():
    """The demo's pool (bookings.pools), idempotent: Laptops, five identical units that need
    check-in and return (a laptop not brought back by its end becomes overdue)."""
    pool, _ = Pool.objects.update_or_create(
        name="Laptops", defaults={"description": "Identical 14-inch laptops with charger.", "is_active": True}
    )
    for n in range(1, 6):
        unit, _ = Resource.objects.update_or_create(
            name=f"Laptop {n:02d}",
            defaults={
                "pool": pool,
                "kind": ResourceKind.EQUIPMENT,
                "category": "Laptops",
                "location": "IT desk",
                "description": "14-inch laptop with charger.",
                "is_active": True,
                "requires_check_in": True,
                "requires_return": True,
                "max_duration_minutes": 8 * 60,
            },
        )
        unit.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(resource=unit, weekday=day, opens=time(8, 0), closes=time(20, 0)) for day in range(5)
        )
