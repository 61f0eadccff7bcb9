"""Settings for the test suite: core.settings with test defaults.

Tests run on PostgreSQL unless DATABASE_URL says otherwise; pytest-django
creates its own database (test_slotbot, with a suffix per xdist worker), never
a shared one. Set DATABASE_URL=sqlite:///... to run the SQLite variant.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slotbot")
os.environ.setdefault("TIME_ZONE", "Europe/Berlin")  # a zone with DST, so tests meet it
os.environ.setdefault("TELEGRAM_BOT_TOKEN", "123456:slotbot-test-token")
os.environ.setdefault("TELEGRAM_WEBHOOK_SECRET", "test-webhook-secret")

from core.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, as the embedded default uses, not Django's shared-cache in-memory
    # database: its table locks ignore the busy timeout, so concurrent tests
    # would see "database table is locked" instead of IMMEDIATE's queueing.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-slotbot.sqlite3")}  # noqa: F405
# Tests serve no static files; without a collected STATIC_ROOT WhiteNoise would warn.
STATIC_ROOT = None
