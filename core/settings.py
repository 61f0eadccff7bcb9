"""Slotbot's one settings module, read from the environment (12-factor).

With no variables set, Slotbot runs on the embedded default: SQLite under
var/, a Celery broker that needs no server, and the local Telegram sandbox.
Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, TELEGRAM_BOT_TOKEN and
friends (see README.md, "Configuration"). A bad value stops start-up with a
message naming the variable (core/env.py).
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core import tasknames
from core.env import (
    env_bool,
    env_database,
    env_float,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    env_url,
)
from core.telegram_urls import telegram_file_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SLOTBOT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY: must be set when DEBUG is off (DEBUG=1 gives a development key)")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "bookings",
    "notifications",
    "bot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A view's database error → 503 JSON (it sees exceptions only after the inner middleware).
    "core.middleware.UnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "core.urls"
ASGI_APPLICATION = "core.asgi.application"
WSGI_APPLICATION = "core.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'slotbot.sqlite3'}"),
}
# PostgreSQL: each process keeps a pool of connections (Django's psycopg pool),
# so many processes stay under max_connections; a database that is gone costs
# a request a few seconds and a clear "unavailable" (core/database.py), never a hang.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=1)
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 5000, minimum=0)
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1)
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 5.0, minimum=0.1, maximum=300.0)
if DATABASE_POOL_MAX_SIZE < DATABASE_POOL_MIN_SIZE:
    raise ImproperlyConfigured(
        f"DATABASE_POOL_MAX_SIZE: must be at least DATABASE_POOL_MIN_SIZE ({DATABASE_POOL_MIN_SIZE}), "
        f"got {DATABASE_POOL_MAX_SIZE}"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    from core.database import postgres_options

    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **postgres_options(
            connect_timeout=DATABASE_CONNECT_TIMEOUT,
            statement_timeout_ms=DATABASE_STATEMENT_TIMEOUT_MS,
            pool_min_size=DATABASE_POOL_MIN_SIZE,
            pool_max_size=DATABASE_POOL_MAX_SIZE,
            pool_timeout=DATABASE_POOL_TIMEOUT,
        ),
    }
    # Django's pool hands a connection back at the end of each request; it
    # refuses persistent connections (CONN_MAX_AGE must be 0).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time and language ----------------------------------------------------
# TIME_ZONE is the site's zone: opening hours are read in it. Storage is UTC.
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
# Translations live in each app's locale/ folder; `make` compiles them (compilemessages).

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "bookings.api.errors.exception_handler",
    # DRF's parsers with a body size and JSON nesting limit checked before parsing (bookings/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "bookings.api.parsers.JSONParser",
        "bookings.api.parsers.FormParser",
        "bookings.api.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Slotbot API",
    "DESCRIPTION": "Resources, availability and bookings that never overlap.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: no CDN is reachable from every deployment.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Booking.status and BookingEvent.from_status/to_status share one choice set: one enum.
    "ENUM_NAME_OVERRIDES": {"BookingStatusEnum": "bookings.models.BookingStatus"},
}

# --- Redis, Celery ----------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))

# --- Cache --------------------------------------------------------------------
# What several processes must agree on (the bot's per-user flood counts, who
# is in the admin chat) lives in Redis, beside the broker's keys under its own
# prefix. Without REDIS_URL each process counts in its own memory, which is
# right for the embedded default's single bot process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "slotbot",
            # A Redis outage may cost an update a second, never hang it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "slotbot",
            # Room for a few keys per active user (the default 300 would cull live flood counts).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Celery -------------------------------------------------------------------
# Redis in production. With no REDIS_URL (the embedded default) kombu's
# filesystem transport under var/ needs no server, so worker and beat run on a
# bare laptop; it keeps messages in files and is meant for one machine only.
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task taken but not acknowledged (worker killed) comes back after this.
        # Longer than any task's hard time limit, so a slow task is never run twice.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=60),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # Message priorities (notifications.urgency): each queue is a list per step and a
        # worker takes from step 0 of every queue before step 3 of any, then 6. 0 is the
        # default (beat's sweeps); urgent messages are published at 3, informational at 6.
        "priority_steps": [0, 3, 6, 9],
    }
else:
    # The transport ignores the host; naming one spares kombu's "No hostname was supplied" warning.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "messages"),
        "data_folder_out": str(CELERY_BROKER_DIR / "messages"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request or the bot must not hang when Redis is down:
# the outbox row is already committed and the requeue sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_IGNORE_RESULT = True  # nothing reads task results; state lives in the database
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long waits on the rate limiter must not hoard tasks
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat runs each sweep. A status change reaches the user within about
# this many seconds of its time (plus its delivery). An idle sweep is one indexed
# conditional UPDATE (~0.5 ms), so production sweeps every second; the embedded
# default (SQLite, filesystem broker) every 5 s.
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 5 if DEBUG else 1, minimum=1)
# A sweep that could not run on time (worker or broker down) is dropped rather
# than piled up: the next one does the same work.
_SWEEP_OPTIONS = {"expires": max(SWEEP_INTERVAL_SECONDS * 2, 2)}
CELERY_BEAT_SCHEDULE = {
    "bookings-start-due": {
        "task": tasknames.START_DUE,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "bookings-complete-ended": {
        "task": tasknames.COMPLETE_ENDED,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "bookings-expire-no-shows": {
        "task": tasknames.EXPIRE_NO_SHOWS,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "bookings-expire-unapproved": {
        "task": tasknames.EXPIRE_UNAPPROVED,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "bookings-mark-overdue": {
        "task": tasknames.MARK_OVERDUE,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    # The waitlist's safety net: lapse held offers past their time, offer what is free, drop past entries.
    "bookings-waitlist-sweep": {
        "task": tasknames.WAITLIST_SWEEP,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "notifications-overdue-reminders": {
        "task": tasknames.CREATE_OVERDUE_REMINDERS,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "notifications-reminders": {
        "task": tasknames.CREATE_REMINDERS,
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "notifications-series-ending": {
        "task": tasknames.CREATE_SERIES_ENDING,
        "schedule": SWEEP_INTERVAL_SECONDS * 20,
        "options": _SWEEP_OPTIONS,
    },
    "notifications-requeue": {
        "task": tasknames.REQUEUE_UNDELIVERED,
        "schedule": env_int("NOTIFICATION_REQUEUE_INTERVAL_SECONDS", 10 if DEBUG else 30, minimum=1),
    },
}

# --- Telegram -----------------------------------------------------------------
SANDBOX_BASE_URL = "http://127.0.0.1:8081/bot"
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN")
# Without a real token Slotbot talks to the local sandbox (see README).
TELEGRAM_BASE_URL = env_url(
    "TELEGRAM_BASE_URL",
    "https://api.telegram.org/bot" if TELEGRAM_BOT_TOKEN else SANDBOX_BASE_URL,
    schemes=("http", "https"),
)
if not TELEGRAM_BOT_TOKEN and DEBUG:
    TELEGRAM_BOT_TOKEN = "123456:slotbot-sandbox-development-token"  # noqa: S105
if TELEGRAM_BOT_TOKEN and ":" not in TELEGRAM_BOT_TOKEN:
    raise ImproperlyConfigured("TELEGRAM_BOT_TOKEN: expected '<bot id>:<secret>' as BotFather gives it")
TELEGRAM_ADMIN_CHAT_ID = env_int("TELEGRAM_ADMIN_CHAT_ID", None)
# The bot's @username for deep links (stickers); empty: asked of the Bot API (getMe) once and cached.
TELEGRAM_BOT_USERNAME = env_str("TELEGRAM_BOT_USERNAME", "").lstrip("@")
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET")
if TELEGRAM_WEBHOOK_SECRET and (
    len(TELEGRAM_WEBHOOK_SECRET) > 256
    or not all(c.isascii() and (c.isalnum() or c in "_-") for c in TELEGRAM_WEBHOOK_SECRET)
):
    raise ImproperlyConfigured("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")

# --- Notifications --------------------------------------------------------------
# Telegram's limits (https://core.telegram.org/bots/faq#broadcasting-to-users),
# shared by the workers and the bot through Redis (core/ratelimit.py).
TELEGRAM_RATE_PER_SECOND = env_float("TELEGRAM_RATE_PER_SECOND", 30.0, minimum=0.1, maximum=1000.0)
TELEGRAM_RATE_PER_CHAT_PER_SECOND = env_float("TELEGRAM_RATE_PER_CHAT_PER_SECOND", 1.0, minimum=0.01, maximum=100.0)
TELEGRAM_RATE_PER_GROUP_PER_MINUTE = env_float("TELEGRAM_RATE_PER_GROUP_PER_MINUTE", 20.0, minimum=1.0, maximum=600.0)
TELEGRAM_SEND_TIMEOUT_SECONDS = env_float("TELEGRAM_SEND_TIMEOUT_SECONDS", 10.0, minimum=1.0, maximum=60.0)
# Network errors and 5xx are retried with exponential backoff this many times.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8, minimum=1)
# A row claimed for sending longer ago than this belongs to a worker that died.
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 120, minimum=30)
NOTIFICATION_REMINDER_MINUTES = env_int("NOTIFICATION_REMINDER_MINUTES", 15, minimum=1)
# Lookahead (notifications/lookahead.py): when more reminders fall due together than Telegram's
# rate can deliver inside the reminder window, they are written earlier, so that each arrives
# at least MARGIN seconds before its booking's start (or end), planning at SHARE of the rate
# (the rest is left to the bot's replies). Never earlier than MAX_MINUTES before the window.
NOTIFICATION_LOOKAHEAD_MARGIN_SECONDS = env_int("NOTIFICATION_LOOKAHEAD_MARGIN_SECONDS", 60, minimum=0)
NOTIFICATION_LOOKAHEAD_RATE_SHARE = env_float("NOTIFICATION_LOOKAHEAD_RATE_SHARE", 0.8, minimum=0.1, maximum=1.0)
NOTIFICATION_LOOKAHEAD_MAX_MINUTES = env_int("NOTIFICATION_LOOKAHEAD_MAX_MINUTES", 60, minimum=0)
# Telegram's paid broadcast (allow_paid_broadcast: up to 1,000 messages/s, billed in Stars per
# message): "off" (the default), "urgent" (only messages with a deadline) or "all" notifications.
# Paid sends draw on their own overall budget of TELEGRAM_PAID_BROADCAST_RATE_PER_SECOND.
TELEGRAM_PAID_BROADCAST = env_str("TELEGRAM_PAID_BROADCAST", "off").lower()
if TELEGRAM_PAID_BROADCAST not in ("off", "urgent", "all"):
    raise ImproperlyConfigured(f"TELEGRAM_PAID_BROADCAST: expected off, urgent or all, got {TELEGRAM_PAID_BROADCAST!r}")
TELEGRAM_PAID_BROADCAST_RATE_PER_SECOND = env_float(
    "TELEGRAM_PAID_BROADCAST_RATE_PER_SECOND", 1000.0, minimum=1.0, maximum=1000.0
)

# --- Loans: overdue reminders, strikes, suspensions -----------------------------
# Reminders to a user who has not returned an item, in minutes after its end
# (comma-separated, increasing); after the last, one every REPEAT minutes.
OVERDUE_REMINDER_MINUTES = [int(m) for m in env_list("OVERDUE_REMINDER_MINUTES", ["15", "60"])]
OVERDUE_REMINDER_REPEAT_MINUTES = env_int("OVERDUE_REMINDER_REPEAT_MINUTES", 24 * 60, minimum=1)
# STRIKES_TO_SUSPEND strikes (late returns, no-shows) within STRIKES_WINDOW_DAYS
# suspend a user from booking for SUSPENSION_DAYS.
STRIKES_TO_SUSPEND = env_int("STRIKES_TO_SUSPEND", 3, minimum=1)
STRIKES_WINDOW_DAYS = env_int("STRIKES_WINDOW_DAYS", 30, minimum=1)
SUSPENSION_DAYS = env_int("SUSPENSION_DAYS", 7, minimum=1)
# --- Recurring series (bookings.series) -----------------------------------------
# A series has at most this many occurrences; its user is told this many days
# before its last occurrence that it ends (with an Extend series button).
SERIES_MAX_OCCURRENCES = env_int("SERIES_MAX_OCCURRENCES", 52, minimum=1)
SERIES_ENDING_NOTICE_DAYS = env_int("SERIES_ENDING_NOTICE_DAYS", 7, minimum=1)
# --- The waitlist (bookings.waitlist) ---------------------------------------------
# A user may wait for at most WAITLIST_MAX_ENTRIES intervals at once; an offer
# (a held booking) is theirs for WAITLIST_HOLD_MINUTES, then the next waiter's.
WAITLIST_MAX_ENTRIES = env_int("WAITLIST_MAX_ENTRIES", 5, minimum=1)
WAITLIST_HOLD_MINUTES = env_int("WAITLIST_HOLD_MINUTES", 10, minimum=1)
# Admin alerts that arrive within this window are sent as one digest message.
ADMIN_DIGEST_SECONDS = env_int("ADMIN_DIGEST_SECONDS", 10, minimum=1)

# --- Sentry -------------------------------------------------------------------
SENTRY_DSN = env_url("SENTRY_DSN", "", schemes=("http", "https"))
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_RELEASE = env_str("SENTRY_RELEASE", "")
SENTRY_SEND_DEFAULT_PII = env_bool("SENTRY_SEND_DEFAULT_PII", False)
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0, maximum=1.0)

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},  # fpdf2's font subsetting logs every table at INFO
    },
}

# --- Bot ------------------------------------------------------------------------
TELEGRAM_BASE_FILE_URL = env_url(
    "TELEGRAM_BASE_FILE_URL", telegram_file_url(TELEGRAM_BASE_URL) or TELEGRAM_BASE_URL, schemes=("http", "https")
)
# The bot's replies draw on the same TELEGRAM_RATE_* buckets as the notification
# workers (bot/ratelimit.py), and are retried after a 429's retry_after.
TELEGRAM_RATE_LIMIT = env_bool("TELEGRAM_RATE_LIMIT", True)
# Per-user flood limit: more than BOT_FLOOD_LIMIT updates in the window get a polite "slow down".
BOT_FLOOD_LIMIT = env_int("BOT_FLOOD_LIMIT", 20, minimum=1)
BOT_FLOOD_WINDOW_SECONDS = env_float("BOT_FLOOD_WINDOW_SECONDS", 10.0, minimum=0.1, maximum=3600.0)
# A booking made in the bot gets its receipt from the bot's reply; its outbox copy is
# held this long, sent at once if that reply fails, or after the hold if the bot died.
BOT_RECEIPT_HOLD_SECONDS = env_int("BOT_RECEIPT_HOLD_SECONDS", 30, minimum=1)

# A message whose reply would wait longer than this for its chat's slot (~1/s) is dropped, with one "slow down".
BOT_REPLY_BACKLOG_SECONDS = env_float("BOT_REPLY_BACKLOG_SECONDS", 5.0, minimum=0.0, maximum=3600.0)
# Updates handled at once by one bot process (one user's flood cannot block the rest).
BOT_CONCURRENT_UPDATES = env_int("BOT_CONCURRENT_UPDATES", 64, minimum=1)
# Threads (and so database connections) one bot process uses for ORM work, so
# different users' updates reach the database side by side. Keep the sum over
# all processes under PostgreSQL's max_connections. SQLite serialises writes
# anyway (IMMEDIATE transactions), so one thread is its default.
BOT_DB_THREADS = env_int("BOT_DB_THREADS", 1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 8, minimum=1)

# The bot's HTTP client for the Bot API: aiohttp (bot/telegram_request.py, a fifth of the CPU per
# call) or httpx (python-telegram-bot's own HTTPXRequest).
BOT_HTTP_CLIENT = env_str("BOT_HTTP_CLIENT", "aiohttp").lower()
if BOT_HTTP_CLIENT not in ("aiohttp", "httpx"):
    raise ImproperlyConfigured(f"BOT_HTTP_CLIENT: expected aiohttp or httpx, got {BOT_HTTP_CLIENT!r}")

# --- Calendar feeds (bookings.feeds) ----------------------------------------------
# Where people reach this site from outside: the calendar feed links the bot and the API hand out start here.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://localhost:8000", schemes=("http", "https")).rstrip("/")
# Each feed link may be fetched this often (a burst of CALENDAR_FEED_BURST first); more is 429 + Retry-After.
CALENDAR_FEED_RATE_PER_MINUTE = env_float("CALENDAR_FEED_RATE_PER_MINUTE", 6.0, minimum=0.1, maximum=6000.0)
CALENDAR_FEED_BURST = env_int("CALENDAR_FEED_BURST", 10, minimum=1)
# A feed holds the live bookings and those that ended within this many days.
CALENDAR_FEED_HISTORY_DAYS = env_int("CALENDAR_FEED_HISTORY_DAYS", 30, minimum=0)
