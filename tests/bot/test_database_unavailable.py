"""The bot while PostgreSQL is silent: a prompt apology, then normal answers once it is back.

The bot's database threads (bot/sync.py) reach PostgreSQL through a proxy the
test black-holes (accepts, forwards nothing: packets dropped). Before the
connection deadlines (core/database.py) a thread waited for the kernel's TCP
timeout, so the apology never came and every later update queued behind it.
"""

import pytest
from django.db import connection

from bot import texts
from tests.core.db_proxy import FAST_OPTIONS, DatabaseProxy, route_connections_through

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APOLOGY = str(texts.APOLOGY)
# The bound on "promptly": far below a TCP timeout, far above the few seconds FAST_OPTIONS allow.
ANSWER_TIMEOUT = 20


@pytest.fixture
def proxy():
    settings = connection.settings_dict
    upstream = (settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    with DatabaseProxy(upstream) as running, route_connections_through(running, **FAST_OPTIONS):
        yield running


def test_bot_apologises_while_the_database_is_silent_and_answers_again_when_it_returns(bot, proxy, alice):
    alice.send("/start")
    alice.expect_message(containing="Hello, Alice", timeout=ANSWER_TIMEOUT)

    proxy.black_hole()
    alice.send("/start")
    alice.expect_message(containing=APOLOGY, timeout=ANSWER_TIMEOUT)
    # The threads are not stuck: the next update gets its apology as well.
    alice.send("/help")
    alice.expect_message(containing=APOLOGY, timeout=ANSWER_TIMEOUT)

    proxy.restore()
    for _ in range(10):  # while the pool reconnects, an update may still meet "unavailable"
        alice.send("/start")
        reply = alice.expect_message(timeout=ANSWER_TIMEOUT)
        if "Hello, Alice" in reply.text:
            break
        assert APOLOGY in reply.text
    assert "Hello, Alice" in reply.text
