"""Telegram text formatting: parse modes into plain text plus MessageEntity dicts.

The parsers follow tdlib's ``parse_html`` and ``parse_markdown_v2`` (the code
behind the real Bot API server), including their error texts, so a message the
sandbox refuses is one Telegram refuses too. Entity offsets and lengths are in
UTF-16 code units, as the Bot API counts them.

Deliberately faithful quirks:
- HTML: only ``&lt; &gt; &amp; &quot;`` and numeric entities are decoded;
  any other ``&name;`` stays literal text (tdlib does not reject it).
- MarkdownV2: each of ``_*[]()~`>#+-=|{}.!`` must be escaped with a backslash
  outside of entities; inside ``code``/``pre`` only ````` and ``\\`` matter.
"""

from __future__ import annotations

import re

__all__ = [
    "EntityParseError",
    "clean_text",
    "detect_user_entities",
    "parse_text",
    "utf16_len",
]

RESERVED_MARKDOWN_V2 = "_*[]()~`>#+-=|{}.!"

HTML_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

MARKDOWN_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


class EntityParseError(ValueError):
    """Raised with tdlib's message; the Bot API prefixes "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what entity offsets count)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


class _Builder:
    """Accumulates output text while tracking its UTF-16 length."""

    __slots__ = ("parts", "u16")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.u16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)

    def text_since(self, u16_offset: int) -> str:
        """Output text from a UTF-16 offset on (used for ``<a>`` without href)."""
        text = self.text()
        units = 0
        for index, ch in enumerate(text):
            if units >= u16_offset:
                return text[index:]
            units += 2 if ord(ch) > 0xFFFF else 1
        return ""


def normalize_url(url: str) -> str | None:
    """Telegram's URL clean-up for text links: None when it is not a URL."""
    url = url.strip()
    if not url:
        return None
    if re.match(r"^tg://", url, re.IGNORECASE):
        return url
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://(.+)$", url)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in ("http", "https", "ton", "tonsite"):
            return None
    else:
        scheme, rest = "http", url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "." not in host and not host.startswith("localhost"):
        return None
    if rest == host:
        rest += "/"
    elif rest[len(host)] in "?#":
        rest = host + "/" + rest[len(host) :]
    return f"{scheme}://{rest}"


# --------------------------------------------------------------------------- HTML


def _decode_html_entity(text: str, index: int) -> tuple[str, int] | None:
    """Decode the entity starting at ``text[index] == '&'``; None keeps it literal."""
    end = index + 1
    if end < len(text) and text[end] == "#":
        end += 1
        is_hex = end < len(text) and text[end] in "xX"
        if is_hex:
            end += 1
        digits = "0123456789abcdefABCDEF" if is_hex else "0123456789"
        start = end
        while end < len(text) and text[end] in digits:
            end += 1
        if end == start:
            return None
        code = int(text[start:end], 16 if is_hex else 10)
        if code == 0 or code > 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = end
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[start:end]
        if name not in NAMED_HTML_ENTITIES:
            return None
        char = NAMED_HTML_ENTITIES[name]
    if end < len(text) and text[end] == ";":
        end += 1
    return char, end


def _decode_html_value(raw: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(raw):
        if raw[index] == "&":
            decoded = _decode_html_entity(raw, index)
            if decoded:
                out.append(decoded[0])
                index = decoded[1]
                continue
        out.append(raw[index])
        index += 1
    return "".join(out)


def _parse_html_attributes(text: str, index: int, tag: str, tag_offset: int) -> tuple[dict, int]:
    """Parse attributes from ``index`` to the closing '>'; returns (attrs, index after '>')."""
    attrs: dict[str, str] = {}
    size = len(text)
    while True:
        while index < size and text[index].isspace():
            index += 1
        if index >= size:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, tag_offset)}')
        if text[index] == ">":
            return attrs, index + 1
        name_start = index
        while index < size and not text[index].isspace() and text[index] not in "=>":
            index += 1
        name = text[name_start:index].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, tag_offset)}'
            )
        while index < size and text[index].isspace():
            index += 1
        if index >= size:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, tag_offset)}')
        if text[index] != "=":
            attrs.setdefault(name, "")
            continue
        index += 1
        while index < size and text[index].isspace():
            index += 1
        if index >= size:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, tag_offset)}')
        if text[index] in "\"'":
            quote = text[index]
            close = text.find(quote, index + 1)
            if close < 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_offset)}")
            value = _decode_html_value(text[index + 1 : close])
            index = close + 1
        else:
            value_start = index
            while index < size and (text[index].isascii() and (text[index].isalnum() or text[index] in ".-")):
                index += 1
            if index >= size or (not text[index].isspace() and text[index] != ">"):
                raise EntityParseError(f"Unexpected end of name token at byte offset {_byte_offset(text, value_start)}")
            value = text[value_start:index]
        attrs.setdefault(name, value)


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Parse Telegram's HTML subset; raises EntityParseError with tdlib's texts."""
    out = _Builder()
    entities: list[dict] = []
    open_tags: list[tuple[str, dict, int]] = []  # (tag, attrs, utf16 offset at open)
    size = len(text)
    index = 0
    while index < size:
        ch = text[index]
        if ch == "&":
            decoded = _decode_html_entity(text, index)
            if decoded:
                out.add(decoded[0])
                index = decoded[1]
                continue
            out.add("&")
            index += 1
            continue
        if ch != "<":
            run_end = index + 1
            while run_end < size and text[run_end] not in "<&":
                run_end += 1
            out.add(text[index:run_end])
            index = run_end
            continue

        tag_offset = index
        if index + 1 < size and text[index + 1] == "/":
            index = _close_html_tag(text, index, open_tags, out, entities)
            continue
        name_end = index + 1
        while name_end < size and not text[name_end].isspace() and text[name_end] != ">":
            name_end += 1
        if name_end >= size:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, tag_offset)}")
        tag = text[index + 1 : name_end].lower()
        if tag not in HTML_TAG_ENTITY:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, tag_offset)}')
        attrs, index = _parse_html_attributes(text, name_end, tag, tag_offset)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, tag_offset)}'
            )
        open_tags.append((tag, attrs, out.u16))

    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _close_html_tag(text, index, open_tags, out, entities) -> int:
    tag_offset = index
    close = text.find(">", index + 2)
    if not open_tags:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, tag_offset)}")
    if close < 0:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, tag_offset)}")
    name = text[index + 2 : close].strip().lower()
    tag, attrs, start = open_tags.pop()
    if name and name != tag:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {_byte_offset(text, tag_offset)}, expected "</{tag}>", found "</{name}>"'
        )
    length = out.u16 - start
    if length > 0:
        entity = _html_entity(tag, attrs, start, length, out)
        if entity is not None:
            _merge_pre_code(entity, entities)
            entities.append(entity)
    return close + 1


def _html_entity(tag: str, attrs: dict, offset: int, length: int, out: _Builder) -> dict | None:
    kind = HTML_TAG_ENTITY[tag]
    entity: dict = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        url = normalize_url(attrs["href"]) if attrs.get("href") else normalize_url(out.text_since(offset))
        if url is None:
            return None
        if url.startswith("tg://user?id="):
            return {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": int(url.split("=", 1)[1] or 0), "is_bot": False, "first_name": ""},
            }
        entity["url"] = url
    elif kind == "code" and attrs.get("class", "").startswith("language-"):
        language = attrs["class"][len("language-") :]
        if language:
            entity["_language"] = language
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            return None
        entity["custom_emoji_id"] = emoji_id
    return entity


def _merge_pre_code(entity: dict, entities: list[dict]) -> None:
    """``<pre><code class="language-x">`` is one ``pre`` entity with a language."""
    if entity["type"] != "pre":
        return
    for candidate in entities:
        if (
            candidate["type"] == "code"
            and candidate.get("_language")
            and candidate["offset"] == entity["offset"]
            and candidate["length"] == entity["length"]
        ):
            entity["language"] = candidate["_language"]
            entities.remove(candidate)
            return


# ---------------------------------------------------------------------- MarkdownV2


def parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    """Parse MarkdownV2; raises EntityParseError with tdlib's texts."""
    out = _Builder()
    entities: list[dict] = []
    nested: list[dict] = []  # open entities: type, offset, byte, begin_text_len, argument
    size = len(text)
    quote_start: int | None = None
    index = 0

    def at(position: int) -> str:
        return text[position] if position < size else ""

    def reserved_error(char: str) -> EntityParseError:
        return EntityParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")

    while index < size:
        ch = text[index]
        at_line_start = index == 0 or text[index - 1] in "\r\n"
        if at_line_start and not nested:
            if ch == ">":
                if quote_start is None:
                    quote_start = out.u16
                index += 1
                continue
            if quote_start is not None:
                _close_quote(entities, quote_start, out.u16)
                quote_start = None
        if ch == "\\" and 0 < ord(at(index + 1) or "\0") <= 126:
            out.add(text[index + 1])
            index += 2
            continue
        in_code = nested and nested[-1]["type"] in ("code", "pre", "pre_code")
        if in_code and ch != "`":
            out.add(ch)
            index += 1
            continue
        if ch not in RESERVED_MARKDOWN_V2:
            out.add(ch)
            index += 1
            continue

        top = nested[-1]["type"] if nested else None
        is_end = {
            "bold": ch == "*",
            "italic": ch == "_" and at(index + 1) != "_",
            "code": ch == "`",
            "pre": ch == "`" and at(index + 1) == "`" and at(index + 2) == "`",
            "pre_code": ch == "`" and at(index + 1) == "`" and at(index + 2) == "`",
            "text_link": ch == "]",
            "underline": ch == "_" and at(index + 1) == "_",
            "strikethrough": ch == "~",
            "spoiler": ch == "|" and at(index + 1) == "|",
            "custom_emoji": ch == "]",
            None: False,
        }[top]
        if is_end:
            index = _close_markdown_entity(text, index, nested, entities, out)
            continue
        index = _open_markdown_entity(text, index, nested, out, reserved_error)

    if nested:
        item = nested[-1]
        raise EntityParseError(
            f"Can't find end of {MARKDOWN_ENTITY_NAMES[item['type']]} entity at byte offset {item['byte']}"
        )
    if quote_start is not None:
        _close_quote(entities, quote_start, out.u16)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _close_quote(entities: list[dict], start: int, end: int) -> None:
    if end > start:
        entities.append({"type": "blockquote", "offset": start, "length": end - start})


def _open_markdown_entity(text, index, nested, out, reserved_error) -> int:
    size = len(text)
    ch = text[index]
    byte = _byte_offset(text, index)
    argument = ""
    nxt = text[index + 1] if index + 1 < size else ""
    if ch == "_":
        kind = "underline" if nxt == "_" else "italic"
        index += 2 if nxt == "_" else 1
    elif ch == "*":
        kind, index = "bold", index + 1
    elif ch == "~":
        kind, index = "strikethrough", index + 1
    elif ch == "|":
        if nxt != "|":
            raise reserved_error(ch)
        kind, index = "spoiler", index + 2
    elif ch == "[":
        kind, index = "text_link", index + 1
    elif ch == "!" and nxt == "[":
        kind, index = "custom_emoji", index + 2
    elif ch == "`":
        if text.startswith("```", index):
            index += 3
            kind = "pre"
            language_end = index
            while language_end < size and not text[language_end].isspace() and text[language_end] != "`":
                language_end += 1
            if language_end != index and language_end < size and text[language_end] != "`":
                kind, argument, index = "pre_code", text[index:language_end], language_end
            if index < size and text[index] in "\r\n":
                pair = text[index : index + 2]
                index += 2 if len(pair) == 2 and pair[1] in "\r\n" and pair[0] != pair[1] else 1
        else:
            kind, index = "code", index + 1
    else:
        raise reserved_error(ch)
    nested.append({"type": kind, "offset": out.u16, "byte": byte, "text_len": len(out.text()), "argument": argument})
    return index


def _close_markdown_entity(text, index, nested, entities, out) -> int:
    item = nested.pop()
    kind = item["type"]
    entity: dict = {
        "type": "pre" if kind == "pre_code" else kind,
        "offset": item["offset"],
        "length": out.u16 - item["offset"],
    }
    skip = entity["length"] == 0
    if kind in ("underline", "spoiler"):
        index += 2
    elif kind in ("pre", "pre_code"):
        index += 3
        if kind == "pre_code":
            entity["language"] = item["argument"]
    elif kind == "text_link":
        index, url = _markdown_link_target(text, index, out.text()[item["text_len"] :])
        normalized = normalize_url(url)
        if normalized is None:
            skip = True
        else:
            entity["url"] = normalized
    elif kind == "custom_emoji":
        index, url = _markdown_link_target(text, index, "")
        match = re.match(r"^tg://emoji\?(?:.*&)?id=(\d+)", url, re.IGNORECASE)
        if not match:
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        entity["custom_emoji_id"] = match.group(1)
    else:
        index += 1
    if not skip:
        entities.append(entity)
    return index


def _markdown_link_target(text: str, index: int, link_text: str) -> tuple[int, str]:
    """After ']' at ``index``: read ``(url)`` or use the link text itself as the URL."""
    if index + 1 >= len(text) or text[index + 1] != "(":
        return index + 1, link_text
    index += 2
    url_begin = index
    url: list[str] = []
    while index < len(text) and text[index] != ")":
        if text[index] == "\\" and index + 1 < len(text) and 0 < ord(text[index + 1]) <= 126:
            url.append(text[index + 1])
            index += 2
            continue
        url.append(text[index])
        index += 1
    if index >= len(text):
        raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}")
    return index + 1, "".join(url)


# ------------------------------------------------------------------ legacy Markdown


def parse_markdown_legacy(text: str) -> tuple[str, list[dict]]:
    """Legacy ``Markdown``: *bold* _italic_ `code` ```pre``` [text](url), no nesting."""
    out = _Builder()
    entities: list[dict] = []
    index = 0
    size = len(text)
    markers = {"*": "bold", "_": "italic", "`": "code"}
    while index < size:
        ch = text[index]
        if ch == "\\" and index + 1 < size and text[index + 1] in "*_`[":
            out.add(text[index + 1])
            index += 2
            continue
        if ch in markers or ch == "[":
            start_byte = _byte_offset(text, index)
            if text.startswith("```", index):
                close = text.find("```", index + 3)
                if close < 0:
                    raise EntityParseError(f"Can't find end of the entity starting at byte offset {start_byte}")
                body = text[index + 3 : close]
                language = ""
                first_line, _, rest = body.partition("\n")
                if rest and first_line and " " not in first_line:
                    language, body = first_line, rest
                start = out.u16
                out.add(body)
                if out.u16 > start:
                    entity = {"type": "pre", "offset": start, "length": out.u16 - start}
                    if language:
                        entity["language"] = language
                    entities.append(entity)
                index = close + 3
                continue
            end_char = "]" if ch == "[" else ch
            close = text.find(end_char, index + 1)
            if close < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {start_byte}")
            body = text[index + 1 : close]
            start = out.u16
            out.add(body)
            index = close + 1
            if ch == "[":
                url = ""
                if index < size and text[index] == "(":
                    url_close = text.find(")", index)
                    if url_close < 0:
                        raise EntityParseError(f"Can't find end of the entity starting at byte offset {start_byte}")
                    url, index = text[index + 1 : url_close], url_close + 1
                normalized = normalize_url(url)
                if normalized and out.u16 > start:
                    entities.append(
                        {"type": "text_link", "offset": start, "length": out.u16 - start, "url": normalized}
                    )
            elif out.u16 > start:
                entities.append({"type": markers[ch], "offset": start, "length": out.u16 - start})
            continue
        out.add(ch)
        index += 1
    return out.text(), entities


# ------------------------------------------------------------------------- public


PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown_legacy}


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict]]:
    """Plain text and entities for ``parse_mode`` (None or "" means no parsing).

    Raises ``KeyError`` for an unknown parse mode and ``EntityParseError`` for
    markup Telegram would refuse.
    """
    if not parse_mode:
        return text, []
    parser = PARSERS[parse_mode.lower()]
    return parser(text)


def clean_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Strip surrounding whitespace like Telegram does, keeping entities aligned."""
    stripped_front = text[: len(text) - len(text.lstrip())]
    body = text.strip()
    shift = utf16_len(stripped_front)
    limit = utf16_len(body)
    cleaned = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            cleaned.append({**entity, "offset": start, "length": end - start})
    return body, cleaned


BOT_COMMAND = re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/@])")
MENTION = re.compile(r"(?<![\w@])@[a-zA-Z0-9_]{5,32}(?!\w)")
URL = re.compile(r"(?<![\w@])(?:https?://)?(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}(?:/[^\s]*)?", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w#])#\w+")


def detect_user_entities(text: str) -> list[dict]:
    """Entities Telegram sets on a user's plain message: bot_command, mention, url, hashtag."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("bot_command", BOT_COMMAND), ("mention", MENTION), ("hashtag", HASHTAG), ("url", URL)):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and end > t_start for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    entities = []
    for start, end, kind in sorted(found):
        offset = utf16_len(text[:start])
        entities.append({"type": kind, "offset": offset, "length": utf16_len(text[start:end])})
    return entities
