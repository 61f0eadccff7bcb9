"""Where the Bot API serves files, derived from where it serves methods.

Plain string work, importable from settings before Django is set up.
"""


def telegram_file_url(base_url):
    """Files are served beside the Bot API: `.../bot` → `.../file/bot`; None for any other URL."""
    if base_url and base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return None
