"""Resources found by any name: aliases in any language, any case, despite a typo (issue 8)."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import errors, selectors, services
from bookings.models import Resource, ResourceAlias

pytestmark = pytest.mark.django_db


def names(resources):
    return [r.name for r in resources]


@pytest.fixture
def catalogue(make_resource):
    """A small catalogue with Russian and English aliases."""
    projector = make_resource(name="Projector Epson", category="AV")
    services.resource_aliases_set(resource=projector, aliases=["Проектор", "beamer"])
    orion = make_resource(name="Meeting room Orion")
    services.resource_aliases_set(resource=orion, aliases=["Переговорная Орион"])
    vega = make_resource(name="Meeting room Vega")
    services.resource_aliases_set(resource=vega, aliases=["Переговорная Вега"])
    return projector, orion, vega


def test_an_alias_in_another_alphabet_finds_its_resource_in_any_case(catalogue):
    projector, _orion, _vega = catalogue
    assert selectors.resources_matching(text="проектор") == [projector]
    assert selectors.resources_matching(text="ПРОЕКТОР") == [projector]
    assert selectors.resources_matching(text="  Beamer ") == [projector]


def test_a_word_of_an_alias_is_matched_by_its_prefix(catalogue):
    _projector, orion, vega = catalogue
    assert selectors.resources_matching(text="орион") == [orion]
    assert names(selectors.resources_matching(text="переговорная")) == ["Meeting room Orion", "Meeting room Vega"]
    assert selectors.resources_matching(text="переговорная в") == [vega]
    assert selectors.resources_matching(text="рион") == []  # inside a word is not a match


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("projetor", "Projector Epson"),  # 8 letters: a missing letter
        ("porjector", "Projector Epson"),  # adjacent letters swapped
        ("проетор", "Projector Epson"),  # 7 letters, in Russian
        ("переговрная орион", "Meeting room Orion"),  # a typo in one word of several
        ("meeting room veha", None),  # 4 letters: exact or prefix only, so nothing
    ],
)
def test_a_typo_still_finds_the_resource_but_not_in_a_short_word(catalogue, typed, expected):
    assert names(selectors.resources_matching(text=typed)) == ([expected] if expected else [])


def test_the_typo_budget_grows_with_the_word(make_resource):
    make_resource(name="Camera")  # 6 letters typed: one edit
    make_resource(name="Microscope")  # 10 letters typed: two edits
    assert names(selectors.resources_matching(text="camra")) == ["Camera"]
    assert selectors.resources_matching(text="cmra") == []  # 4 letters: no typo allowed
    assert selectors.resources_matching(text="cammmra") == []  # 7 letters, two edits away
    assert names(selectors.resources_matching(text="mikroskope")) == ["Microscope"]
    assert selectors.resources_matching(text="mikroskopo") == []  # three edits away


def test_exact_beats_prefix_and_prefix_beats_typos(make_resource):
    make_resource(name="Laptop")
    make_resource(name="Laptop cart")
    make_resource(name="Laptops shelf")
    radio = make_resource(name="Radio")
    services.resource_aliases_set(resource=radio, aliases=["Laptopz"])
    # exact name alone, though "laptop" also starts two other names and is one typo from an alias
    assert names(selectors.resources_matching(text="laptop")) == ["Laptop"]
    # prefix matches hide the typo match ("laptops" is one edit from "laptopz" and from "laptop")
    assert names(selectors.resources_matching(text="laptops")) == ["Laptops shelf"]
    # only typo matches: the fewest typos first ("laptopz" 1), then by name (the others 2)
    assert names(selectors.resources_matching(text="laptopzz")) == ["Radio", "Laptop", "Laptop cart", "Laptops shelf"]


def test_inactive_resources_are_not_found_by_their_aliases(make_resource):
    old = make_resource(name="Old projector", is_active=False)
    services.resource_aliases_set(resource=old, aliases=["проектор"])
    assert selectors.resources_matching(text="проектор") == []
    assert selectors.resources_matching(text="проектр") == []


def test_matching_respects_the_limit(make_resource):
    for n in range(5):
        make_resource(name=f"Bench {n}")
    assert names(selectors.resources_matching(text="bench", limit=3)) == ["Bench 0", "Bench 1", "Bench 2"]
    assert names(selectors.resources_matching(text="bennch", limit=2)) == ["Bench 0", "Bench 1"]


def test_aliases_set_is_idempotent_and_case_blind(make_resource):
    resource = make_resource(name="Projector")
    services.resource_aliases_set(resource=resource, aliases=["проектор", "Beamer", "ПРОЕКТОР", " beamer "])
    first = list(resource.aliases.values_list("pk", "alias"))
    assert [alias for _pk, alias in first] == ["Beamer", "проектор"]
    services.resource_aliases_set(resource=resource, aliases=["проектор", "Beamer"])
    assert list(resource.aliases.values_list("pk", "alias")) == first
    services.resource_aliases_set(resource=resource, aliases=["Проектор"])
    assert list(resource.aliases.values_list("alias", flat=True)) == ["Проектор"]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 121])
def test_a_bad_alias_is_refused_and_changes_nothing(make_resource, bad):
    resource = make_resource(name="Projector")
    services.resource_aliases_set(resource=resource, aliases=["beamer"])
    with pytest.raises(errors.InvalidAlias) as refused:
        services.resource_aliases_set(resource=resource, aliases=["проектор", bad])
    assert refused.value.code == "invalid_alias"
    assert list(resource.aliases.values_list("alias", flat=True)) == ["beamer"]


def test_the_database_refuses_the_same_alias_twice_in_another_case(make_resource):
    resource = make_resource(name="Projector")
    ResourceAlias.objects.create(resource=resource, alias="Проектор")
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceAlias.objects.create(resource=resource, alias="проектор")
    # another resource may share it: then the bot asks which one
    ResourceAlias.objects.create(resource=make_resource(name="Beamer"), alias="проектор")


def test_seed_demo_twice_keeps_one_set_of_aliases_that_find_the_demo_resources():
    call_command("seed_demo", verbosity=0)
    aliases = sorted(ResourceAlias.objects.values_list("pk", "resource__name", "alias"))
    call_command("seed_demo", verbosity=0)
    assert sorted(ResourceAlias.objects.values_list("pk", "resource__name", "alias")) == aliases
    for typed, expected in [
        ("проектор", "Projector Epson EB-W06"),
        ("камера", "Camera Sony A7 III"),
        ("переговорная", "Meeting room Orion"),
        ("переговрная", "Meeting room Orion"),
        ("projetor", "Projector Epson EB-W06"),
        ("лазер", "Laser cutter"),
    ]:
        assert names(selectors.resources_matching(text=typed)) == [expected], typed
    # Every demo resource has aliases, except the units of a pool (found through the pool).
    assert Resource.objects.filter(pool__isnull=True).count() == len({name for _pk, name, _alias in aliases})


def _one_edit(word, data):
    """`word` with one random deletion, substitution, insertion or adjacent swap."""
    i = data.draw(st.integers(0, len(word) - 2))
    letter = data.draw(st.sampled_from("абвгдежзийклмнопрстуфхцчшщыьэюяabcdefghijklmnopqrstuvwxyz"))
    return data.draw(
        st.sampled_from(
            [
                word[:i] + word[i + 1 :],
                word[:i] + letter + word[i + 1 :],
                word[:i] + letter + word[i:],
                word[:i] + word[i + 1] + word[i] + word[i + 2 :],
            ]
        )
    )


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_typo_in_a_long_enough_word_still_finds_the_resource(catalogue, data):
    projector, orion, _vega = catalogue
    word, resource = data.draw(st.sampled_from([("проектор", projector), ("projector", projector), ("orion", orion)]))
    typed = _one_edit(word, data)
    found = selectors.resources_matching(text=typed)
    if len(typed) >= 5:
        assert resource in found, typed
    # a typo never produces a match elsewhere when the name is typed right
    assert selectors.resources_matching(text=word) == [resource]


def _osa_distance(a, b):
    """The textbook optimal-string-alignment distance, unbounded: the reference."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(a=st.text("abcя", max_size=9), b=st.text("abcя", max_size=9), budget=st.integers(0, 3))
def test_the_bounded_edit_distance_agrees_with_the_textbook_one_up_to_its_budget(a, b, budget):
    assert selectors._edit_distance(a, b, budget) == min(_osa_distance(a, b), budget + 1)
