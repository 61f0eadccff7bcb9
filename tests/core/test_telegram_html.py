"""Cutting HTML messages to Telegram's limit keeps them valid."""

from html.parser import HTMLParser

from core.telegram_html import fit_html, visible_length


class _Balance(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()


def assert_balanced(text):
    parser = _Balance()
    parser.feed(text)
    parser.close()
    assert parser.stack == []


def test_a_message_that_fits_is_unchanged():
    text = "<b>Projector</b> &amp; <i>camera</i>"
    assert fit_html(text) is text


def test_tags_do_not_count_and_an_entity_counts_once():
    assert visible_length("<b>ab</b>&amp;<a href='x'>c</a>") == 4
    assert visible_length("🎥") == 2  # UTF-16, as Telegram counts


def test_a_cut_inside_nested_tags_closes_them_in_order():
    text = "<b>" + "x" * 50 + "<i>" + "y" * 50 + "</i></b>"
    cut = fit_html(text, limit=80)
    assert visible_length(cut) <= 80
    assert cut.endswith("…</i></b>")
    assert_balanced(cut)


def test_an_entity_or_a_surrogate_pair_is_never_split():
    cut = fit_html("a" * 9 + "&amp;" * 5, limit=11)
    assert cut == "a" * 9 + "&amp;…"
    cut = fit_html("🎥" * 10, limit=5)
    assert cut == "🎥🎥…"


def test_long_list_of_escaped_user_strings_fits_and_stays_valid():
    line = "<b>Room &lt;A&gt;</b> — <i>Alice &amp; Bob</i>\n"
    cut = fit_html(line * 400)
    assert visible_length(cut) <= 4096
    assert_balanced(cut)
    assert "&am…" not in cut and not cut.rstrip("…</bi>").endswith("&")
