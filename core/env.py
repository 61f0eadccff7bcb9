"""Reading settings from the environment, with errors that name the variable.

Every value Slotbot takes from the environment goes through one of these
functions, so a typo in a deployment stops start-up with a message such as
"DEBUG: expected a boolean (1/0, true/false, yes/no, on/off), got 'maybe'"
instead of a traceback deep inside Django.
"""

import os
import zoneinfo
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name, default):
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name, default=False):
    value = _raw(name, None)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_str(name, default=""):
    return _raw(name, default)


def env_int(name, default=None, *, minimum=None):
    value = _raw(name, None)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_float(name, default, *, minimum=None, maximum=None):
    value = _raw(name, None)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a number, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}: must be between {minimum} and {maximum}, got {number}")
    return number


def env_list(name, default=()):
    value = _raw(name, None)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_time_zone(name, default):
    value = _raw(name, default) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}: unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
        ) from None
    return value


def env_url(name, default="", *, schemes):
    value = _raw(name, default)
    if not value:
        return value
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ImproperlyConfigured(
            f"{name}: expected a URL starting with one of {', '.join(s + '://' for s in schemes)}, got {value!r}"
        )
    return value


def env_database(name, default):
    """Parse DATABASE_URL into Django's DATABASES entry."""
    import environ  # django-environ; imported here so env.py stays cheap to import

    value = _raw(name, "") or default
    scheme = urlparse(value).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"{name}: expected postgres://user:password@host:port/name or sqlite:///path, got {value!r}"
        )
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # django-environ raises several kinds on malformed URLs
        raise ImproperlyConfigured(f"{name}: cannot parse {value!r}: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        # IMMEDIATE takes the write lock at BEGIN, so two writers serialise instead
        # of both reading "slot free" and one failing later with "database is locked".
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    else:
        config["ENGINE"] = "django.db.backends.postgresql"
        # The pool checks a connection before handing it out (core/settings.py sets the pool up).
        config["CONN_HEALTH_CHECKS"] = True
    return config
