"""Benchmark of resources_matching on PostgreSQL: prints figures, asserts nothing.

    .venv/bin/python bench/bench_resources_matching.py             # catalogues of 1,000 and 5,000 resources
    .venv/bin/python bench/bench_resources_matching.py --sizes 500 --samples 50

For each catalogue size (resources with two aliases each, one of them
Russian), p50/p95 latency of selectors.resources_matching for an exact
alias, a word prefix, a typo (the fuzzy pass over every name and alias) and
a miss. It works in its own database (slotbot_bench_matching on
127.0.0.1:5432, created and dropped here), never in the development or test ones.
"""

import argparse
import time

import benchkit

DATABASE = "slotbot_bench_matching"
WORDS = ["projector", "camera", "laptop", "microscope", "tripod", "speaker", "monitor", "drone", "tablet", "printer"]
RUSSIAN = ["проектор", "камера", "ноутбук", "микроскоп", "штатив", "колонка", "монитор", "дрон", "планшет", "принтер"]
QUERIES = {
    "exact alias": "проектор 20",
    "word prefix": "micro",
    "typo": "projetcor 20",
    "miss": "telescope",
}


def fill(size):
    """Grow the catalogue to `size` resources: "<Word> <n>", aliases "<русское> <n>" and "<word>-<n>"."""
    from bookings.models import Resource, ResourceAlias, ResourceKind

    have = Resource.objects.count()
    resources = Resource.objects.bulk_create(
        Resource(name=f"{WORDS[n % 10].title()} {n}", kind=ResourceKind.EQUIPMENT) for n in range(have, size)
    )
    aliases = []
    for n, resource in enumerate(resources, start=have):
        for alias in (f"{RUSSIAN[n % 10]} {n}", f"{WORDS[n % 10]}-{n}"):
            aliases.append(ResourceAlias(resource=resource, alias=alias, key=alias.casefold()))
    ResourceAlias.objects.bulk_create(aliases)


def fetch_names_and_aliases():
    """The one query resources_matching makes over the catalogue, without the matching."""
    from bookings.models import Resource, ResourceAlias

    names = Resource.objects.filter(is_active=True).order_by().values_list("pk", "name")
    aliases = ResourceAlias.objects.filter(resource__is_active=True).order_by().values_list("resource_id", "key")
    return list(names.union(aliases, all=True))


def measure(samples, call):
    """p50 and p95 of `call` in milliseconds."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return benchkit.p50_p95(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="catalogue sizes (ascending)")
    parser.add_argument("--samples", type=int, default=100, help="calls per figure")
    args = parser.parse_args()
    with benchkit.bench_database(DATABASE, quiet=()):
        from bookings import selectors

        for size in sorted(int(s) for s in args.sizes.split(",")):
            fill(size)
            print(f"\n== {size} resources, {2 * size} aliases: resources_matching, {args.samples} calls each")
            p50, p95 = measure(args.samples, fetch_names_and_aliases)
            print(f"{'the query':12} {'alone':16} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
            for label, text in QUERIES.items():
                found = selectors.resources_matching(text=text)
                p50, p95 = measure(args.samples, lambda: selectors.resources_matching(text=text))
                print(f"{label:12} {text!r:16} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({len(found)} found)")


if __name__ == "__main__":
    main()
