"""A fault inside a handler: the user gets a short apology, never a traceback."""

import time

import pytest

from bookings import selectors

pytestmark = pytest.mark.django_db(transaction=True)

APOLOGY = "Sorry, something went wrong on our side"


@pytest.fixture
def broken_catalogue(monkeypatch):
    """The catalogue query fails as a lost database connection would."""

    def explode(**kwargs):
        raise RuntimeError("connection to server lost: secret-host:5432")

    monkeypatch.setattr(selectors, "resource_categories", explode)


def _errors_once_handled(errors_seen, timeout=5):
    """The types of errors seen, once the error handlers (run after the apology) have run."""
    deadline = time.monotonic() + timeout
    while not errors_seen and time.monotonic() < deadline:
        time.sleep(0.02)
    return [type(e) for e in errors_seen]


def _no_internals_leak(messages):
    for message in messages:
        assert "RuntimeError" not in message.text
        assert "Traceback" not in message.text
        assert "secret-host" not in message.text


def test_a_failing_button_answers_with_an_apology_alert_and_leaks_nothing(bot, alice, broken_catalogue, errors_seen):
    alice.send("/resources")
    alice.expect_message(containing="What are you looking for?")

    answer = alice.press("Equipment").answer()

    assert APOLOGY in answer["text"] and answer["show_alert"]
    assert _errors_once_handled(errors_seen) == [RuntimeError]
    _no_internals_leak(alice.bot_messages())


def test_a_failing_command_answers_with_an_apology_message_in_the_users_language(
    bot, sandbox, broken_catalogue, errors_seen, monkeypatch
):
    boris = sandbox.user("Boris", language_code="ru")
    monkeypatch.setattr(selectors, "resources_matching", lambda **kwargs: 1 / 0)

    boris.send("/book projector tomorrow 14:00 2h")

    apology = boris.expect_message(containing="Извините")
    assert "Traceback" not in apology.text and "ZeroDivisionError" not in apology.text
    assert _errors_once_handled(errors_seen) == [ZeroDivisionError]
    _no_internals_leak(boris.bot_messages())
