"""One definition each: Celery task names (core.tasknames) and the Bot API's file URL (core.telegram_urls)."""

from django.conf import settings

from core import tasknames
from core.celery import app
from core.telegram_urls import telegram_file_url


def test_every_scheduled_and_routed_task_name_is_a_registered_task():
    app.loader.import_default_modules()
    registered = set(app.tasks)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    routed = {name for name in app.conf.task_routes if not name.endswith("*")}
    named = {value for key, value in vars(tasknames).items() if key.isupper() and not value.endswith("*")}
    assert scheduled <= registered
    assert routed <= registered
    assert named <= registered


def test_file_url_sits_beside_the_bot_api_and_is_none_for_other_urls():
    assert telegram_file_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert telegram_file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert telegram_file_url("https://proxy.example/tg") is None
    assert telegram_file_url("") is None
