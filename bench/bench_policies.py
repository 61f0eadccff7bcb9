"""Benchmark of booking_create with institution policies in force: prints figures, asserts nothing.

    .venv/bin/python bench/bench_policies.py                  # 1000 bookings per variant, 3 rounds
    .venv/bin/python bench/bench_policies.py --create 300 --rounds 2

booking_create bookings/s with no quota rules, and with 5 quota rules that
all apply to the booking user (bookings per day, hours per week on the
category, live at once on the resource, bookings per month, and a group
rule), each with a limit high enough never to refuse, in the same run:
rounds alternate the two variants on fresh resources, so both meet the same
machine load; the best round of each is reported, and the ratio.

It works in its own database (slotbot_bench_policies on 127.0.0.1:5432,
created and dropped here), never in the development or test ones.
"""

import argparse
import time
from datetime import timedelta

import benchkit

DATABASE = "slotbot_bench_policies"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--create", type=int, default=1000, help="bookings per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (no rules, 5 rules)")
    return parser.parse_args()


def create_rules(resource, group):
    from bookings.models import QuotaRule

    big = 10**6
    QuotaRule.objects.bulk_create(
        [
            QuotaRule(kind="bookings", period="day", limit=big),
            QuotaRule(category=resource.category, kind="hours", period="week", limit=big),
            QuotaRule(resource=resource, kind="live", limit=big),
            QuotaRule(kind="bookings", period="month", limit=big),
            QuotaRule(group=group, kind="hours", period="month", limit=big),
        ]
    )


def run_variant(name, count, user, group, *, with_rules):
    from django.utils import timezone

    from bookings import rules, services
    from bookings.models import QuotaRule, Resource, ResourceKind

    QuotaRule.objects.all().delete()
    resource = Resource.objects.create(
        name=f"Bench {name}", kind=ResourceKind.SPACE, category="Bench rooms", max_advance_days=366
    )
    if with_rules:
        create_rules(resource, group)
    now = timezone.now()
    first = rules.round_up_to_grid(resource, now + timedelta(hours=1))
    slots = [(first + timedelta(hours=i), first + timedelta(hours=i, minutes=30)) for i in range(count)]
    started = time.perf_counter()
    for start, end in slots:
        services.booking_create(user=user, resource=resource, start=start, end=end, now=now)
    return count / (time.perf_counter() - started)


def main():
    args = parse_args()
    with benchkit.bench_database(DATABASE):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        group = Group.objects.create(name="Bench group")
        user = get_user_model().objects.create_user(username="bench-user")  # no Telegram id: no network
        user.groups.add(group)
        best = {"none": 0.0, "five": 0.0}
        for round_ in range(args.rounds):
            for key, with_rules in (("none", False), ("five", True)):
                rate = run_variant(f"{key} {round_}", args.create, user, group, with_rules=with_rules)
                best[key] = max(best[key], rate)
                print(
                    f"round {round_ + 1}  {'5 quota rules' if with_rules else 'no rules     '}: {rate:7.0f} bookings/s"
                )
        print(f"\nbooking_create, no quota rules : {best['none']:7.0f} bookings/s (best of {args.rounds})")
        print(f"booking_create, 5 quota rules  : {best['five']:7.0f} bookings/s (best of {args.rounds})")
        print(f"ratio none / five              : {best['none'] / best['five']:7.2f}x")


if __name__ == "__main__":
    main()
